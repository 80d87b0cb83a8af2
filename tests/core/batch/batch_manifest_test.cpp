// Batch manifests: JSON Lines and CSV read into clip requests, the command line's defaults
// filling what a line leaves out, and every malformed line kept as a problem naming its line.
#include "batch/batch_manifest.h"

#include <catch2/catch.hpp>

using namespace grym;
using namespace grym::batch;

namespace {

Manifest jsonLines(const std::string& text, const ClipDefaults& defaults = {}) {
    return parseManifest(text, "m.jsonl", ManifestFormat::JsonLines, defaults, ApiLimits{});
}
Manifest csv(const std::string& text, const ClipDefaults& defaults = {}) {
    return parseManifest(text, "m.csv", ManifestFormat::Csv, defaults, ApiLimits{});
}

bool mentions(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("a JSON Lines manifest gives each line's fields and the defaults for the rest", "[batch]") {
    ClipDefaults defaults;
    defaults.request.steps = 7;
    defaults.request.durationSeconds = 1.5;
    defaults.request.negativePrompt = "hum";
    defaults.takes = 2;
    defaults.model = "/models/default";
    const Manifest m = jsonLines(
        "{\"id\": \"rain\", \"prompt\": \"rain on a tin roof\"}\n"
        "\n"
        "{\"id\": \"steps\", \"prompt\": \"footsteps\", \"seconds\": 2.5, \"steps\": 3, \"guidance\": 1.5,"
        " \"scheduler\": \"dpm++\", \"seed\": 42, \"takes\": 3, \"model\": \"/m2\", \"precision\": \"bf16\","
        " \"negative_prompt\": \"\"}\n",
        defaults);
    REQUIRE(m.problems.empty());
    REQUIRE(m.lines.size() == 2);
    CHECK(m.entries == 2);
    const ManifestLine& rain = m.lines[0];
    CHECK(rain.lineNumber == 1);
    CHECK(rain.entry == 0);
    CHECK(rain.request.prompt == "rain on a tin roof");
    CHECK(rain.request.steps == 7);
    CHECK(rain.request.durationSeconds == 1.5);
    CHECK(rain.request.negativePrompt == "hum");
    CHECK(rain.takes == 2);
    CHECK(rain.model == "/models/default");
    CHECK_FALSE(rain.request.seed);
    const ManifestLine& steps = m.lines[1];
    CHECK(steps.lineNumber == 3);  // the blank line still counts as a line of the file
    CHECK(steps.entry == 1);       // but not as an entry
    CHECK(steps.request.durationSeconds == 2.5);
    CHECK(steps.request.steps == 3);
    CHECK(steps.request.guidanceScale == 1.5);
    CHECK(steps.request.scheduler == "dpm++");
    CHECK(steps.request.seed == 42);
    CHECK(steps.takes == 3);
    CHECK(steps.model == "/m2");
    CHECK(steps.precision == Precision::Bf16);
    CHECK(steps.request.negativePrompt.empty());
}

TEST_CASE("malformed manifest lines are reported by line number and the others kept", "[batch]") {
    const Manifest m = jsonLines(
        "{\"id\": \"a\", \"prompt\": \"ok\"}\n"
        "{\"id\": \"b\", \"prompt\": \"x\", \"steps\": \"ten\"}\n"
        "{\"id\": \"c\", \"prompt\": \"x\"\n"
        "{\"id\": \"d\", \"prompt\": \"x\", \"seconds\": 900}\n"
        "{\"id\": \"e\", \"prompt\": \"x\", \"stepz\": 3}\n"
        "{\"id\": \"a\", \"prompt\": \"again\"}\n"
        "{\"id\": \"../f\", \"prompt\": \"x\"}\n"
        "{\"prompt\": \"no id\"}\n"
        "[1, 2]\n"
        "{\"id\": \"g\", \"prompt\": \"x\", \"precision\": \"fp8\"}\n"
        "{\"id\": \"h\", \"prompt\": \"fine too\"}\n");
    REQUIRE(m.lines.size() == 2);
    CHECK(m.lines[0].id == "a");
    CHECK(m.lines[1].id == "h");
    CHECK(m.lines[1].entry == 10);
    CHECK(m.entries == 11);
    REQUIRE(m.problems.size() == 9);
    const std::vector<std::pair<size_t, std::string>> expected = {
        {2, "field 'steps' = \"ten\""}, {3, "not a JSON object"},        {4, "field 'seconds' = 900"},
        {5, "'stepz'"},                 {6, "already used on line 1"},   {7, "field 'id' = \"../f\""},
        {8, "field 'id' is missing"},   {9, "not a JSON object"},        {10, "field 'precision' = \"fp8\""}};
    for (size_t i = 0; i < expected.size(); ++i) {
        INFO(m.problems[i].message);
        CHECK(m.problems[i].lineNumber == expected[i].first);
        CHECK(m.problems[i].entry == expected[i].first - 1);
        CHECK(mentions(m.problems[i].message, "m.jsonl line " + std::to_string(expected[i].first) + ":"));
        CHECK(mentions(m.problems[i].message, expected[i].second));
    }
}

TEST_CASE("a manifest value out of the API's limits is refused, also when it comes from the defaults", "[batch]") {
    const ApiLimits limits;
    ClipDefaults defaults;
    defaults.request.steps = limits.maxSteps + 1;
    const Manifest m = jsonLines("{\"id\": \"a\", \"prompt\": \"x\"}\n{\"id\": \"b\", \"prompt\": \"x\", \"steps\": 5}\n",
                                 defaults);
    REQUIRE(m.problems.size() == 1);
    CHECK(m.problems[0].lineNumber == 1);
    CHECK(mentions(m.problems[0].message, "field 'steps'"));
    CHECK(mentions(m.problems[0].message, "command line"));
    REQUIRE(m.lines.size() == 1);
    CHECK(m.lines[0].id == "b");

    const Manifest takes = jsonLines("{\"id\": \"t\", \"prompt\": \"x\", \"takes\": " +
                                     std::to_string(kMaxTakes + 1) + "}\n");
    REQUIRE(takes.problems.size() == 1);
    CHECK(mentions(takes.problems[0].message, "field 'takes'"));
}

TEST_CASE("two lines whose outputs would share a file name are refused", "[batch]") {
    // "a" with two takes writes a-1 and a-2; a line with id "a-2" would overwrite the second.
    const Manifest m = jsonLines("{\"id\": \"a\", \"prompt\": \"x\", \"takes\": 2}\n{\"id\": \"a-2\", \"prompt\": \"y\"}\n");
    REQUIRE(m.problems.size() == 1);
    CHECK(m.problems[0].lineNumber == 2);
    CHECK(mentions(m.problems[0].message, "a-2 is also written by line 1"));
}

TEST_CASE("a CSV manifest reads quoted fields, numbers and empty cells as absent", "[batch]") {
    ClipDefaults defaults;
    defaults.request.steps = 9;
    const Manifest m = csv(
        "id,prompt,steps,seed,negative_prompt\r\n"
        "door,\"a door, creaking\",4,11,\r\n"
        "bell,\"a bell \"\"ding\"\"\nthen silence\",,,\"low, muddy\"\r\n"
        "bad,x,many,,\n"
        "short,x\n"
        "last,\"ok\",2,,\n",
        defaults);
    REQUIRE(m.lines.size() == 3);
    CHECK(m.lines[0].request.prompt == "a door, creaking");
    CHECK(m.lines[0].request.steps == 4);
    CHECK(m.lines[0].request.seed == 11);
    CHECK(m.lines[0].lineNumber == 2);
    CHECK(m.lines[1].request.prompt == "a bell \"ding\"\nthen silence");
    CHECK(m.lines[1].request.steps == 9);
    CHECK_FALSE(m.lines[1].request.seed);
    CHECK(m.lines[1].request.negativePrompt == "low, muddy");
    CHECK(m.lines[1].lineNumber == 3);
    CHECK(m.lines[2].id == "last");
    CHECK(m.lines[2].lineNumber == 7);  // the quoted newline made the bell record two lines
    REQUIRE(m.problems.size() == 2);
    CHECK(m.problems[0].lineNumber == 5);
    CHECK(mentions(m.problems[0].message, "m.csv line 5: field 'steps' = \"many\""));
    CHECK(m.problems[1].lineNumber == 6);
    CHECK(mentions(m.problems[1].message, "2 fields where the header has 5"));
    CHECK(m.entries == 5);
}

TEST_CASE("a CSV header without id or prompt, or with an unknown column, spoils the whole file", "[batch]") {
    CHECK_THROWS_WITH(csv("id,text\na,b\n"), Catch::Contains("column 'text' is not a manifest field"));
    CHECK_THROWS_WITH(csv("id,steps\na,3\n"), Catch::Contains("no 'prompt' column"));
    CHECK_THROWS_WITH(csv("id,prompt,id\na,b,c\n"), Catch::Contains("'id' appears twice"));
}

TEST_CASE("the manifest format follows the file name", "[batch]") {
    CHECK(manifestFormatFor("clips.CSV") == ManifestFormat::Csv);
    CHECK(manifestFormatFor("clips.jsonl") == ManifestFormat::JsonLines);
    CHECK(manifestFormatFor("clips.ndjson") == ManifestFormat::JsonLines);
    CHECK(clipStem("rain", 1, 1) == "rain");
    CHECK(clipStem("rain", 3, 10) == "rain-3");
}
