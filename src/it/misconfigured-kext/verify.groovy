// The typo must fail the test as a configuration error that names the key and the keys the harness reads.
def log = new File(basedir, 'build.log').text
assert log.contains('BUILD FAILURE')
assert log.contains('Tests run: 1, Failures: 0, Errors: 1, Skipped: 0')
assert log.contains('ExtensionConfigurationException: Unknown configuration parameter kextharness.leakPolisy=fail: '
        + 'the Kext Harness reads only kextharness.leakPolicy')
return true
