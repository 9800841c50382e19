// The generated project passes 'mvn verify' as written: its kext is balanced on every path, KextRules
// finds nothing, the enforcer finds one version of each library, and nothing warns.
def log = new File(basedir, 'build.log').text
assert log.contains('BUILD SUCCESS')
assert log.contains('Tests run: 6, Failures: 0, Errors: 0, Skipped: 0')
assert log.contains('maven-enforcer-plugin') && log.contains('Rule 1: org.apache.maven.enforcer.rules.dependency.DependencyConvergence passed')
assert !log.contains('KEXT LEAK')
def warnings = log.readLines().findAll { it.contains('WARN') || it.startsWith('SLF4J') }
assert warnings.isEmpty() : "the generated build warned:\n" + warnings.join('\n')
// Every allocation of start failed in turn: a counting run and one run per allocation (tag, ring, counter).
def report = new File(basedir, 'kext-hello/target/surefire-reports/TEST-com.example.kext_hello.HelloKextTest.xml').text
assert report.contains('tests="5"')
return true
