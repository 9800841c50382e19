package dev.kextharness.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import dev.kextharness.kernel.ledger.LeakReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.stream.StreamSource;
import javax.xml.validation.SchemaFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Suppressions, --gen-suppressions, and the JSON, JUnit XML and SARIF that CI reads, validated against their schemas. */
class CiOutputsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonSchemaFactory SCHEMAS = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012,
            builder -> builder.schemaMappers(m -> m.mapPrefix("https://kextharness.dev/schema/",
                    "classpath:dev/kextharness/schema/").mapPrefix("https://kextharness.dev/test/", "classpath:ci/")));

    private static Set<ValidationMessage> validate(String schemaId, String json) throws Exception {
        JsonSchema schema = SCHEMAS.getSchema(SchemaLocation.of(schemaId));
        return schema.validate(JSON.readTree(json));
    }

    @Test
    void loadJsonOfEveryVerdictMatchesThePublishedSchema() throws Exception {
        for (String[] args : new String[][]{{"memleak"}, {"memleak", "--twin"}, {"memleak", "--leak-policy", "fail"},
                {"wrongsize-samebucket", "--leak-policy", "fail"}}) {
            Cli.Result r = Cli.run(concat(new String[]{"load", "--json"}, args));
            assertThat(validate("https://kextharness.dev/schema/load-run.schema.json", r.out()))
                    .as("load --json %s", String.join(" ", args)).isEmpty();
            assertThat(JSON.readTree(r.out()).get("schemaVersion").asInt()).isEqualTo(RunReport.SCHEMA_VERSION);
        }
    }

    @Test
    void theSchemaRejectsAReportWithoutItsVersion() throws Exception {
        Cli.Result r = Cli.run("load", "--json", "memleak", "--leak-policy", "fail");
        com.fasterxml.jackson.databind.node.ObjectNode report = (com.fasterxml.jackson.databind.node.ObjectNode)
                JSON.readTree(r.out()).get("report");
        assertThat(validate("https://kextharness.dev/schema/leak-report.schema.json", report.toString())).isEmpty();
        report.remove("schemaVersion");
        assertThat(validate("https://kextharness.dev/schema/leak-report.schema.json", report.toString()))
                .extracting(ValidationMessage::getMessage).anyMatch(m -> m.contains("schemaVersion"));
    }

    @Test
    void demoJsonMatchesThePublishedSchema() throws Exception {
        Cli.Result r = Cli.run("demo", "--json", "--sample", "memleak", "--sample", "wrongsize-samebucket");
        assertThat(validate("https://kextharness.dev/schema/demo.schema.json", r.out())).isEmpty();
    }

    @Test
    void theSchemasShipInTheJarsThatWriteTheJson() {
        assertThat(LeakReport.class.getResource(LeakReport.SCHEMA_RESOURCE)).isNotNull();
        assertThat(RunReport.class.getResource(RunReport.LOAD_SCHEMA)).isNotNull();
        assertThat(RunReport.class.getResource(RunReport.DEMO_SCHEMA)).isNotNull();
    }

    @Test
    void aSuppressedLeakIsCleanAndTheReportSaysWhichSuppressionTookHowMuch(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("kext.supp");
        Files.writeString(file, """
                # the teaching leak, accepted
                {
                   memleak-start
                   kind: leak
                   kext: cn.junkman.kext-memleak
                   site: cn.junkman.kext-memleak|_MALLOC|*MemleakKext.start
                }
                """);

        Cli.Result text = Cli.run("load", "memleak", "--suppressions", file.toString());
        assertThat(text.exitCode()).isEqualTo(ExitCodes.CLEAN);
        assertThat(text.out()).contains("verdict: clean")
                .contains("Suppressed (accepted by the suppressions file, not counted in the verdict):")
                .contains("1 allocation (1 byte) by 'memleak-start'");

        Cli.Result json = Cli.run("load", "--json", "memleak", "--suppressions", file.toString());
        JsonNode used = JSON.readTree(json.out()).get("report").get("suppressed");
        assertThat(used).hasSize(1);
        assertThat(used.get(0).get("name").asText()).isEqualTo("memleak-start");
        assertThat(used.get(0).get("count").asLong()).isEqualTo(1);
        assertThat(validate("https://kextharness.dev/schema/load-run.schema.json", json.out())).isEmpty();
    }

    @Test
    void aSuppressionOfAnotherSiteLeavesTheLeakAndListsNothingUsed(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("kext.supp");
        Files.writeString(file, "{\n  elsewhere\n  kind: leak\n  site: *Other.start\n}\n");

        Cli.Result r = Cli.run("load", "memleak", "--leak-policy", "fail", "--suppressions", file.toString());

        assertThat(r.exitCode()).isEqualTo(ExitCodes.LEAK);
        assertThat(r.out()).contains("KEXT LEAK: cn.junkman.kext-memleak").doesNotContain("Suppressed");
    }

    @Test
    void genSuppressionsPrintsEntriesThatMakeTheNextRunClean(@TempDir Path dir) throws Exception {
        Cli.Result found = Cli.run("load", "wrongsize-samebucket", "--leak-policy", "fail", "--gen-suppressions");
        assertThat(found.exitCode()).isEqualTo(ExitCodes.LEAK);
        String out = found.out();
        String blocks = out.substring(out.indexOf("suppressions for what the run found"));
        blocks = blocks.substring(blocks.indexOf('\n') + 1);
        assertThat(blocks).contains("kind: size-mismatch").contains("site: ").contains("family: ");

        Path file = dir.resolve("generated.supp");
        Files.writeString(file, blocks);
        Cli.Result again = Cli.run("load", "wrongsize-samebucket", "--leak-policy", "fail", "--suppressions",
                file.toString());
        assertThat(again.exitCode()).isEqualTo(ExitCodes.CLEAN);
        assertThat(again.out()).contains("1 finding by '");
    }

    @Test
    void aMalformedSuppressionsFileIsAUsageErrorNamingItsLine(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("bad.supp");
        Files.writeString(file, "{\n  name\n  kind: leak\n  colour: red\n}\n");

        Cli.Result r = Cli.run("load", "memleak", "--suppressions", file.toString());

        assertThat(r.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("bad.supp:4").contains("'colour: red' is not a 'key: value' line");
    }

    @Test
    void junitXmlIsWhatSurefireAndJenkinsRead(@TempDir Path dir) throws Exception {
        Path xml = dir.resolve("reports/TEST-kext-harness.xml");
        Cli.Result r = Cli.run("load", "memleak", "--leak-policy", "fail", "--junit-xml", xml.toString());
        assertThat(r.exitCode()).isEqualTo(ExitCodes.LEAK);

        validateJunitXml(xml);
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(xml.toFile());
        Element suite = doc.getDocumentElement();
        assertThat(suite.getAttribute("tests")).isEqualTo("1");
        assertThat(suite.getAttribute("failures")).isEqualTo("1");
        Element failure = (Element) doc.getElementsByTagName("failure").item(0);
        assertThat(failure.getAttribute("message"))
                .isEqualTo("leak: KEXT LEAK: cn.junkman.kext-memleak: 1 allocation (1 byte) outstanding at unload");
        assertThat(failure.getAttribute("type")).isEqualTo("kext-harness.leak");
        assertThat(failure.getTextContent()).contains("at MemleakKext.start(MemleakKext.java:");
        assertThat(doc.getElementsByTagName("system-out").item(0).getTextContent()).contains("kext-memleak");
    }

    @Test
    void demoJunitXmlPassesTheLessonsThatEndedAsTheySay(@TempDir Path dir) throws Exception {
        Path xml = dir.resolve("demo.xml");
        Cli.Result r = Cli.run("demo", "--sample", "memleak", "--junit-xml", xml.toString());
        assertThat(r.exitCode()).isEqualTo(ExitCodes.CLEAN);

        validateJunitXml(xml);
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(xml.toFile());
        assertThat(doc.getDocumentElement().getAttribute("tests")).isEqualTo("2");
        assertThat(doc.getElementsByTagName("failure").getLength()).isZero();
    }

    @Test
    void sarifPutsLeaksAndFindingsAtTheirSourceLines(@TempDir Path dir) throws Exception {
        Path sarif = dir.resolve("kext.sarif");
        Cli.Result r = Cli.run("load", "memleak", "--leak-policy", "fail", "--sarif", sarif.toString(),
                "--source-root", "sample-kexts/src/main/java");
        assertThat(r.exitCode()).isEqualTo(ExitCodes.LEAK);

        String text = Files.readString(sarif);
        assertThat(validate("https://kextharness.dev/test/sarif-2.1.0-core.schema.json", text)).isEmpty();
        JsonNode result = JSON.readTree(text).get("runs").get(0).get("results").get(0);
        assertThat(result.get("ruleId").asText()).isEqualTo("leak");
        JsonNode physical = result.get("locations").get(0).get("physicalLocation");
        assertThat(physical.get("artifactLocation").get("uri").asText())
                .isEqualTo("sample-kexts/src/main/java/dev/kextharness/samples/memleak/MemleakKext.java");
        assertThat(physical.get("region").get("startLine").asInt()).isPositive();
        assertThat(result.get("partialFingerprints").get("callSite/v1").asText())
                .isEqualTo("cn.junkman.kext-memleak|_MALLOC|dev.kextharness.samples.memleak.MemleakKext.start");
    }

    @Test
    void sarifOfAFindingNamesItsRuleAndLine(@TempDir Path dir) throws Exception {
        Path sarif = dir.resolve("finding.sarif");
        Cli.run("load", "wrongsize-samebucket", "--leak-policy", "fail", "--sarif", sarif.toString());

        String text = Files.readString(sarif);
        assertThat(validate("https://kextharness.dev/test/sarif-2.1.0-core.schema.json", text)).isEmpty();
        JsonNode result = JSON.readTree(text).get("runs").get(0).get("results").get(0);
        assertThat(result.get("ruleId").asText()).isEqualTo("size-mismatch");
        JsonNode rules = JSON.readTree(text).get("runs").get(0).get("tool").get("driver").get("rules");
        assertThat(rules.get(result.get("ruleIndex").asInt()).get("id").asText()).isEqualTo("size-mismatch");
        assertThat(result.get("locations").get(0).get("physicalLocation").get("region").get("startLine").asInt())
                .isPositive();
        JsonNode allocation = result.get("relatedLocations").get(0);
        assertThat(allocation.get("message").get("text").asText()).isEqualTo("kalloc here");
        assertThat(allocation.get("physicalLocation").get("region").get("startLine").asInt()).isPositive();
    }

    private static void validateJunitXml(Path xml) throws Exception {
        SchemaFactory factory = SchemaFactory.newInstance(XMLConstants.W3C_XML_SCHEMA_NS_URI);
        var schema = factory.newSchema(CiOutputsTest.class.getResource("/ci/junit-report.xsd"));
        schema.newValidator().validate(new StreamSource(xml.toFile()));
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = new String[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
