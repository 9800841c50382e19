// What a user types: kext-harness new com.example.kext-hello, in this directory. The command line runs
// in-process (harness/it puts it on the scripts' class path); it must write the project and exit 0.
import dev.kextharness.cli.KextHarnessCli
import picocli.CommandLine.Help.Ansi

def out = new StringWriter()
def err = new StringWriter()
def cli = KextHarnessCli.commandLine(new PrintWriter(out), new PrintWriter(err), Ansi.OFF)
int status = cli.execute('new', 'com.example.kext-hello', '--directory', new File(basedir, 'kext-hello').path)
assert status == 0 : "kext-harness new exited ${status}: ${err}"
assert out.toString().contains('Next: cd ')
assert new File(basedir, 'kext-hello/pom.xml').isFile()
return true
