// The consumer build must pass every test: balanced kexts, every error path of NetworkKext, an expected leak.
def log = new File(basedir, 'build.log').text
assert log.contains('BUILD SUCCESS')
assert log.contains('Tests run: 8, Failures: 0, Errors: 0, Skipped: 0')
assert !log.contains('KEXT LEAK')
// KextRules.check reads class files itself: no ArchUnit import, so no SLF4J "No providers" warning.
assert !log.contains('SLF4J')
def report = new File(basedir, 'target/surefire-reports/TEST-com.example.kexts.NetworkKextTest.xml').text
assert report.contains('tests="4"')
return true
