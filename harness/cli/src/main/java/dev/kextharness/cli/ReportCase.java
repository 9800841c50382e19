package dev.kextharness.cli;

/**
 * One verdict as CI test reports show it: a test case named after the run, failing with a message
 * when the run did not end as it should, and the run itself for its log and report.
 *
 * @param name      the test case's name
 * @param className the class it is filed under (the kext's class)
 * @param run       the run judged
 * @param failure   why the case fails, or null if it passes
 */
record ReportCase(String name, String className, KextRun run, String failure) {

    /** A {@code load} run: it passes only if the kext unloaded clean. */
    static ReportCase of(KextRun run) {
        String failure = run.verdict() == Verdict.CLEAN ? null : headline(run);
        return new ReportCase(run.target().name(), run.target().className(), run, failure);
    }

    /** The verdict's first line: the leak report's headline, the panic string, the load failure. */
    static String headline(KextRun run) {
        String body = RunReport.verdictBody(run).strip();
        int newline = body.indexOf('\n');
        return run.verdict().label() + ": " + (newline < 0 ? body : body.substring(0, newline));
    }
}
