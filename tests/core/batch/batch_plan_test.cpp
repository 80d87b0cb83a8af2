// Shards and seeds: every clip of a manifest in exactly one shard, the shard read from Slurm's
// and Kubernetes' environments, and seeds that a rerun reproduces.
#include "batch/batch_plan.h"

#include <catch2/catch.hpp>

#include <map>
#include <set>

using namespace grym;
using namespace grym::batch;

namespace {

EnvironmentLookup environmentOf(std::map<std::string, std::string> variables) {
    return [variables](const std::string& name) -> std::optional<std::string> {
        auto it = variables.find(name);
        if (it == variables.end()) return std::nullopt;
        return it->second;
    };
}

Manifest twelveLines() {
    std::string text;
    for (int i = 0; i < 12; ++i)
        text += "{\"id\": \"clip" + std::to_string(i) + "\", \"prompt\": \"p\"" + (i % 4 == 0 ? ", \"takes\": 2" : "") + "}\n";
    return parseManifest(text, "m.jsonl", ManifestFormat::JsonLines, {}, {});
}

}  // namespace

TEST_CASE("the shard option I/N is read and checked", "[batch]") {
    const Shard s = parseShard("2/5");
    CHECK(s.index == 2);
    CHECK(s.count == 5);
    CHECK(s.origin == "--shard");
    for (const char* bad : {"5/5", "1/0", "-1/3", "1", "a/b", "1/2/3", "/2", ""})
        CHECK_THROWS_WITH(parseShard(bad), Catch::Contains("--shard takes I/N"));
}

TEST_CASE("the shards of a manifest make every clip exactly once", "[batch]") {
    const Manifest manifest = twelveLines();
    std::vector<ClipJob> all = planClips(manifest, Shard{});
    CHECK(all.size() == 15);  // 12 lines, three of them with two takes
    std::map<std::string, int> made;
    for (size_t i = 0; i < 3; ++i)
        for (const ClipJob& job : planClips(manifest, Shard{i, 3, "--shard"})) {
            CHECK(job.line.entry % 3 == i);
            ++made[job.stem];
        }
    CHECK(made.size() == all.size());
    for (const ClipJob& job : all) CHECK(made[job.stem] == 1);
}

TEST_CASE("a Slurm job array gives the shard, numbered from the array's first task", "[batch]") {
    Shard s = shardFromEnvironment(environmentOf({{"SLURM_ARRAY_TASK_ID", "2"}, {"SLURM_ARRAY_TASK_COUNT", "3"}}), {});
    CHECK(s.index == 2);
    CHECK(s.count == 3);
    CHECK(s.origin == "SLURM_ARRAY_TASK_ID");
    // --array=1-4: ids 1..4, without a COUNT (older Slurm) from MIN and MAX.
    s = shardFromEnvironment(environmentOf({{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_MIN", "1"}, {"SLURM_ARRAY_TASK_MAX", "4"}}), {});
    CHECK(s.index == 0);
    CHECK(s.count == 4);
    // --array=0-8:4: ids 0, 4, 8.
    s = shardFromEnvironment(environmentOf({{"SLURM_ARRAY_TASK_ID", "8"}, {"SLURM_ARRAY_TASK_MIN", "0"},
                                            {"SLURM_ARRAY_TASK_MAX", "8"}, {"SLURM_ARRAY_TASK_STEP", "4"}}),
                             {});
    CHECK(s.index == 2);
    CHECK(s.count == 3);
    // --array=1,5,9 cannot be numbered 0..N-1 from the environment.
    CHECK_THROWS_WITH(shardFromEnvironment(environmentOf({{"SLURM_ARRAY_TASK_ID", "5"}, {"SLURM_ARRAY_TASK_MIN", "1"},
                                                          {"SLURM_ARRAY_TASK_COUNT", "3"}, {"SLURM_ARRAY_TASK_STEP", "1"}}),
                                           {}),
                      Catch::Contains("--shard I/N"));
    CHECK_THROWS_WITH(shardFromEnvironment(environmentOf({{"SLURM_ARRAY_TASK_ID", "x"}, {"SLURM_ARRAY_TASK_COUNT", "3"}}), {}),
                      Catch::Contains("SLURM_ARRAY_TASK_ID must be a whole number, got 'x'"));
    CHECK_THROWS_WITH(shardFromEnvironment(environmentOf({{"SLURM_ARRAY_TASK_ID", "0"}, {"SLURM_ARRAY_TASK_COUNT", "3"}}), 4),
                      Catch::Contains("disagrees"));
}

TEST_CASE("a Kubernetes Indexed Job gives the shard with --shards", "[batch]") {
    const Shard s = shardFromEnvironment(environmentOf({{"JOB_COMPLETION_INDEX", "3"}}), 4);
    CHECK(s.index == 3);
    CHECK(s.count == 4);
    CHECK(s.origin == "JOB_COMPLETION_INDEX");
    CHECK_THROWS_WITH(shardFromEnvironment(environmentOf({{"JOB_COMPLETION_INDEX", "3"}}), {}), Catch::Contains("--shards N"));
    CHECK_THROWS_WITH(shardFromEnvironment(environmentOf({{"JOB_COMPLETION_INDEX", "4"}}), 4), Catch::Contains("not below"));
    CHECK_THROWS_WITH(shardFromEnvironment(environmentOf({}), 4), Catch::Contains("JOB_COMPLETION_INDEX"));
    const Shard whole = shardFromEnvironment(environmentOf({}), {});
    CHECK(whole.count == 1);
    CHECK(whole.origin.empty());
}

TEST_CASE("seeds not given are derived from id and take, and given ones count up per take", "[batch]") {
    const Manifest manifest = parseManifest(
        "{\"id\": \"a\", \"prompt\": \"p\", \"takes\": 3}\n{\"id\": \"b\", \"prompt\": \"p\", \"seed\": 100, \"takes\": 2}\n",
        "m.jsonl", ManifestFormat::JsonLines, {}, {});
    const std::vector<ClipJob> first = planClips(manifest, Shard{});
    const std::vector<ClipJob> again = planClips(manifest, Shard{});
    REQUIRE(first.size() == 5);
    std::set<int64_t> derived;
    for (size_t i = 0; i < first.size(); ++i) {
        CHECK(first[i].seed == again[i].seed);  // a rerun makes the same clips
        CHECK(first[i].line.request.seed == first[i].seed);
        CHECK(first[i].seed >= 0);
        CHECK(first[i].seed < (int64_t{1} << 53));
    }
    for (int i = 0; i < 3; ++i) {
        CHECK(first[i].seedDerived);
        CHECK(first[i].stem == "a-" + std::to_string(i + 1));
        derived.insert(first[i].seed);
    }
    CHECK(derived.size() == 3);
    CHECK(derivedSeed("a", 1) != derivedSeed("b", 1));
    CHECK(derivedSeed("a1", 1) != derivedSeed("a", 11));  // the separator keeps id and take apart
    CHECK_FALSE(first[3].seedDerived);
    CHECK(first[3].seed == 100);
    CHECK(first[4].seed == 101);
}
