// kext-harness new com.example.kext-hello, then the slip a user makes: stop forgets to _FREE the counter
// that start took with _MALLOC.
import dev.kextharness.cli.KextHarnessCli
import picocli.CommandLine.Help.Ansi

def err = new StringWriter()
def cli = KextHarnessCli.commandLine(new PrintWriter(new StringWriter()), new PrintWriter(err), Ansi.OFF)
int status = cli.execute('new', 'com.example.kext-hello', '--directory', new File(basedir, 'kext-hello').path)
assert status == 0 : "kext-harness new exited ${status}: ${err}"

def kext = new File(basedir, 'kext-hello/src/main/java/com/example/kext_hello/HelloKext.java')
def planted = kext.readLines().findAll { !it.contains('_FREE(count, M_TEMP);') }
assert planted.size() == kext.readLines().size() - 1 : 'the template has no single _FREE(count, M_TEMP) line to delete'
kext.text = planted.join('\n') + '\n'
return true
