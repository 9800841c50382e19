// The planted leak fails the build with the kernel's report: the kext, the 8-byte _MALLOC at start and
// its fix. It fails the runs in which start succeeded, and no other: the error paths of start still
// free what they took.
def log = new File(basedir, 'build.log').text
assert log.contains('BUILD FAILURE')
assert log.contains('Tests run: 6, Failures: 2, Errors: 0, Skipped: 0')
assert log.contains('KEXT LEAK: com.example.kext-hello: 1 allocation (8 bytes) outstanding at unload')
assert log =~ /1 allocation of 8 bytes \(16 wired\) in kalloc\.16, by _MALLOC\n\s+at HelloKext\.start\(HelloKext\.java:\d+\)/
assert log.contains('fix: free it with _FREE before stop returns')
assert log =~ /HelloKextTest\.recordsValuesAndUnloadsClean\(LoadedKext, Kernel\)/
return true
