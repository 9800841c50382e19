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

// What the project got from the (isolated) local repository is what Maven Central would serve: each jar
// names its module, and the poms carry what Central asks for (the modules inherit it from the parent).
def repo = new File(basedir, '../../local-repo/dev/kextharness')
['kpi', 'kernel', 'junit'].each { module ->
    def jar = new File(repo, "kext-harness-${module}").listFiles().find { it.isDirectory() }
            .listFiles().find { it.name ==~ /kext-harness-${module}-.*\.jar/ }
    def manifest = new java.util.jar.JarFile(jar).manifest.mainAttributes
    assert manifest.getValue('Automatic-Module-Name') == "dev.kextharness.${module}"
}
['kext-harness-parent', 'kext-harness-bom'].each { artifact ->
    def pom = new File(repo, artifact).listFiles().find { it.isDirectory() }.listFiles().find { it.name.endsWith('.pom') }
    def xpath = javax.xml.xpath.XPathFactory.newInstance().newXPath()
    def doc = javax.xml.parsers.DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(pom)
    def text = { String path -> xpath.evaluate(path.replaceAll(/([a-zA-Z.]+)/, "*[local-name()='\$1']"), doc).trim() }
    assert text('/project/licenses/license/name') == 'Apache-2.0' : artifact
    ['/project/url', '/project/description', '/project/scm/url', '/project/developers/developer/name'].each {
        assert !text(it).isEmpty() : "${artifact}: ${it}"
    }
    assert text('/project/properties/project.build.outputTimestamp') ==~ /\d{4}-\d\d-\d\dT.*Z/
}
return true
