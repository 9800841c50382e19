// The build failed (invoker.buildResult); it must have failed on the two leaks, with their reports in the log.
def log = new File(basedir, 'build.log').text
assert log.contains('BUILD FAILURE')
assert log.contains('Tests run: 5, Failures: 2, Errors: 0, Skipped: 0')
// The plain leak at unload, as the source article's kext-memleak has it.
assert log.contains('KEXT LEAK: cn.junkman.kext-memleak: 1 allocation (1 byte) outstanding at unload')
assert log =~ /at MemleakKext\.start\(MemleakKext\.java:\d+\)/
assert log.contains('fix: free it with _FREE before stop returns')
// The leak on one error path only: the invocation that failed IOMalloc, and the OSMalloc it forgot.
assert log =~ /fail-nth 3 of 3: IOMalloc at SloppyKext\.start\(SloppyKext\.java:\d+\) returned NULL, and the error path that follows failed:\nKEXT LEAK: com\.example\.kext-sloppy:/
assert log =~ /by OSMalloc with tag 'com\.example\.kext-sloppy'\n\s+at SloppyKext\.start\(SloppyKext\.java:\d+\)/
// The reports are files of the test too (JUnit's output directory), where CI can keep them as artifacts.
def published = []
new File(basedir, 'target/junit-jupiter').eachFileRecurse { published << it.name }
assert published.count { it == 'cn.junkman.kext-memleak-leak.txt' } == 1
assert published.count { it == 'cn.junkman.kext-memleak-leak.json' } == 1
assert published.contains('com.example.kext-sloppy-leak.txt')
return true
