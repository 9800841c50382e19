package dev.kextharness.cli;

import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamWriter;
import java.io.StringWriter;
import java.util.List;

/**
 * Verdicts as JUnit XML, in the layout Surefire writes and Jenkins, GitLab and GitHub's test
 * reporters read: one {@code testsuite} with its counts, one {@code testcase} per run with
 * {@code name}, {@code classname} and {@code time}, a {@code failure} (message, type, the report
 * as text) for a run that did not end as it should, and the kernel log as {@code system-out}.
 * A simulated run has no meaningful wall time, so every time is 0.
 */
final class JunitXml {
    private JunitXml() {
    }

    static String render(String suite, List<ReportCase> cases) {
        StringWriter text = new StringWriter();
        try {
            XMLStreamWriter xml = XMLOutputFactory.newFactory().createXMLStreamWriter(text);
            xml.writeStartDocument("UTF-8", "1.0");
            xml.writeCharacters("\n");
            xml.writeStartElement("testsuite");
            xml.writeAttribute("name", suite);
            xml.writeAttribute("tests", Integer.toString(cases.size()));
            xml.writeAttribute("failures", Long.toString(cases.stream().filter(c -> c.failure() != null).count()));
            xml.writeAttribute("errors", "0");
            xml.writeAttribute("skipped", "0");
            xml.writeAttribute("time", "0");
            xml.writeCharacters("\n");
            for (ReportCase c : cases) {
                xml.writeCharacters("  ");
                xml.writeStartElement("testcase");
                xml.writeAttribute("name", c.name());
                xml.writeAttribute("classname", c.className());
                xml.writeAttribute("time", "0");
                if (c.failure() != null) {
                    xml.writeCharacters("\n    ");
                    xml.writeStartElement("failure");
                    xml.writeAttribute("message", c.failure());
                    xml.writeAttribute("type", "kext-harness." + c.run().verdict().label());
                    xml.writeCharacters(RunReport.verdictBody(c.run()));
                    xml.writeEndElement();
                }
                xml.writeCharacters("\n    ");
                xml.writeStartElement("system-out");
                xml.writeCharacters(String.join("\n", c.run().log()) + "\n");
                xml.writeEndElement();
                xml.writeCharacters("\n  ");
                xml.writeEndElement();
                xml.writeCharacters("\n");
            }
            xml.writeEndElement();
            xml.writeCharacters("\n");
            xml.writeEndDocument();
            xml.close();
        } catch (XMLStreamException e) {
            throw new IllegalStateException("could not write JUnit XML", e);
        }
        return text.toString();
    }
}
