// The batch runner with a quick test-double generator: outputs, sidecars and index lines for
// every clip, finished clips skipped on a rerun (without loading a model), failures reported
// while the rest goes on, and an interrupted run leaving no partial file.
#include "batch/batch_runner.h"

#include "audio/audio_file.h"
#include "batch/batch_index.h"
#include "core/test_files.h"
#include "support/fake_services.h"

#include <catch2/catch.hpp>

#include <sstream>
#include <thread>

using namespace grym;
using namespace grym::batch;
namespace fs = std::filesystem;

namespace {

// The test double, failing the clips whose prompt is "fail".
class PromptFailingGenerator : public test::FakeGenerationService {
public:
    using FakeGenerationService::FakeGenerationService;
    TaskResult run(const TaskInput& input, const ProgressCallback& progress, const CancellationToken& cancel) override {
        if (input.prompt == "fail") throw ModelError("the fake generator was asked to fail");
        return FakeGenerationService::run(input, progress, cancel);
    }
};

struct CountingFactory {
    std::shared_ptr<int> made = std::make_shared<int>(0);
    std::shared_ptr<std::vector<std::string>> models = std::make_shared<std::vector<std::string>>();
    int stepMillis = 1;
    std::shared_ptr<ModelService> operator()(const BatchModel& model, Precision, ComputeDevice) const {
        ++*made;
        models->push_back(model.folder);
        return std::make_shared<PromptFailingGenerator>(std::chrono::milliseconds(stepMillis));
    }
};

BatchRunOptions optionsFor(const fs::path& out) {
    BatchRunOptions options;
    options.outputFolder = out;
    options.manifestPath = "m.jsonl";
    options.resolveModel = [](const std::string& given) {
        BatchModel m;
        m.given = given;
        m.folder = given.empty() ? "/default" : given;
        return m;
    };
    return options;
}

std::vector<ClipJob> plan(const std::string& text) {
    ClipDefaults defaults;
    defaults.request.durationSeconds = 0.25;
    defaults.request.steps = 3;
    return planClips(parseManifest(text, "m.jsonl", ManifestFormat::JsonLines, defaults, {}), Shard{});
}

std::vector<nlohmann::json> indexRecords(const fs::path& out) {
    std::vector<nlohmann::json> records;
    std::istringstream lines(test::readWholeFile(out / "index.jsonl"));
    for (std::string line; std::getline(lines, line);) records.push_back(nlohmann::json::parse(line));
    return records;
}

}  // namespace

TEST_CASE("a batch writes every take with its sidecar and index line", "[batch]") {
    test::ScratchFolder scratch;
    const fs::path out = scratch.path() / "out";
    CountingFactory factory;
    BatchRunner runner(factory, optionsFor(out));
    const auto jobs = plan("{\"id\": \"a\", \"prompt\": \"p\", \"takes\": 2}\n{\"id\": \"b\", \"prompt\": \"q\", \"seed\": 5}\n");
    std::atomic<bool> stop{false};
    const BatchSummary summary = runner.run(jobs, {}, stop);
    CHECK(summary.counts.done == 3);
    CHECK(summary.counts.failed == 0);
    CHECK(*factory.made == 1);  // one model for the whole batch
    for (const char* stem : {"a-1", "a-2", "b"}) {
        INFO(stem);
        const AudioBuffer audio = loadAudioFile((out / (std::string(stem) + ".flac")).string());
        CHECK(audio.frames() == 4000);  // 0.25 s at 16 kHz
        const auto sidecar = nlohmann::json::parse(test::readWholeFile(out / (std::string(stem) + ".json")));
        for (const char* key : {"grym_synth_version", "id", "take", "prompt", "negative_prompt", "seconds", "steps",
                                "guidance", "scheduler", "seed", "model", "precision", "device", "timings", "audio"})
            CHECK(sidecar.contains(key));
        CHECK(sidecar["steps"] == 3);
        CHECK(sidecar["model"]["folder"] == "/default");
        CHECK(sidecar["audio"]["frames"] == 4000);
    }
    const auto b = nlohmann::json::parse(test::readWholeFile(out / "b.json"));
    CHECK(b["seed"] == 5);
    CHECK(b["seed_origin"] == "manifest");
    const auto records = indexRecords(out);
    REQUIRE(records.size() == 3);
    for (const auto& record : records) CHECK(record["status"] == "done");
}

TEST_CASE("a rerun skips finished clips without loading a model and redoes unfinished ones", "[batch]") {
    test::ScratchFolder scratch;
    const fs::path out = scratch.path() / "out";
    const auto jobs = plan("{\"id\": \"a\", \"prompt\": \"p\"}\n{\"id\": \"b\", \"prompt\": \"q\"}\n");
    std::atomic<bool> stop{false};
    {
        CountingFactory factory;
        BatchRunner(factory, optionsFor(out)).run(jobs, {}, stop);
    }
    const auto finishedAt = fs::last_write_time(out / "a.flac");
    CountingFactory again;
    BatchSummary summary = BatchRunner(again, optionsFor(out)).run(jobs, {}, stop);
    CHECK(summary.counts.skipped == 2);
    CHECK(summary.counts.done == 0);
    CHECK(*again.made == 0);
    CHECK(fs::last_write_time(out / "a.flac") == finishedAt);
    CHECK(indexRecords(out).size() == 2);

    // Killed after the audio was renamed into place but before the sidecar: not finished.
    fs::remove(out / "b.json");
    // A temporary a killed save left behind is removed when the clip is made again.
    test::writeWholeFile(out / "b.flac.tmp-abc123", "half");
    summary = BatchRunner(again, optionsFor(out)).run(jobs, {}, stop);
    CHECK(summary.counts.skipped == 1);
    CHECK(summary.counts.done == 1);
    CHECK(fs::exists(out / "b.json"));
    CHECK_FALSE(fs::exists(out / "b.flac.tmp-abc123"));
    CHECK(indexRecords(out).size() == 3);
}

TEST_CASE("a clip whose index line was lost gets it on the rerun that skips it", "[batch]") {
    test::ScratchFolder scratch;
    const fs::path out = scratch.path() / "out";
    const auto jobs = plan("{\"id\": \"a\", \"prompt\": \"p\"}\n");
    std::atomic<bool> stop{false};
    CountingFactory factory;
    BatchRunner(factory, optionsFor(out)).run(jobs, {}, stop);
    fs::remove(out / "index.jsonl");
    BatchRunner(factory, optionsFor(out)).run(jobs, {}, stop);
    CHECK(BatchIndex::finishedFiles(out / "index.jsonl") == std::set<std::string>{"a.flac"});
}

TEST_CASE("a failed clip is reported with its reason and the batch goes on", "[batch]") {
    test::ScratchFolder scratch;
    const fs::path out = scratch.path() / "out";
    CountingFactory factory;
    const auto jobs = plan("{\"id\": \"a\", \"prompt\": \"fail\"}\n{\"id\": \"b\", \"prompt\": \"q\"}\n");
    std::atomic<bool> stop{false};
    std::vector<std::string> ended;
    BatchCallbacks callbacks;
    callbacks.onClipEnd = [&ended](const ClipOutcome& o, const BatchCounts&) { ended.push_back(o.stem + ":" + toString(o.status)); };
    const BatchSummary summary = BatchRunner(factory, optionsFor(out)).run(jobs, callbacks, stop);
    CHECK(summary.counts.failed == 1);
    CHECK(summary.counts.done == 1);
    REQUIRE(summary.failures.size() == 1);
    CHECK(summary.failures[0].lineNumber == 1);
    CHECK(summary.failures[0].error.find("asked to fail") != std::string::npos);
    CHECK(ended == std::vector<std::string>{"a:failed", "b:done"});
    CHECK_FALSE(fs::exists(out / "a.flac"));
    CHECK_FALSE(fs::exists(out / "a.json"));
    const auto records = indexRecords(out);
    REQUIRE(records.size() == 2);
    CHECK(records[0]["status"] == "failed");
    CHECK(records[0].contains("error"));
}

TEST_CASE("a model that cannot be loaded fails its clips only", "[batch]") {
    test::ScratchFolder scratch;
    const fs::path out = scratch.path() / "out";
    CountingFactory factory;
    BatchRunOptions options = optionsFor(out);
    options.resolveModel = [](const std::string& given) {
        BatchModel m;
        m.given = given;
        m.folder = given;
        if (given == "/missing") m.problem = "no model at /missing";
        return m;
    };
    const auto jobs = plan("{\"id\": \"a\", \"prompt\": \"p\", \"model\": \"/missing\"}\n"
                           "{\"id\": \"b\", \"prompt\": \"q\", \"model\": \"/m1\"}\n"
                           "{\"id\": \"c\", \"prompt\": \"q\", \"model\": \"/missing\"}\n"
                           "{\"id\": \"d\", \"prompt\": \"q\", \"model\": \"/m1\"}\n");
    std::atomic<bool> stop{false};
    const BatchSummary summary = BatchRunner(factory, options).run(jobs, {}, stop);
    CHECK(summary.counts.failed == 2);
    CHECK(summary.counts.done == 2);
    CHECK(*factory.models == std::vector<std::string>{"/m1"});  // each model tried once, in one group
    for (const auto& failure : summary.failures) CHECK(failure.error.find("no model at /missing") != std::string::npos);
}

TEST_CASE("stopping a batch cancels the clip in flight and leaves no partial file", "[batch]") {
    test::ScratchFolder scratch;
    const fs::path out = scratch.path() / "out";
    CountingFactory factory;
    factory.stepMillis = 50;
    const auto jobs = plan("{\"id\": \"a\", \"prompt\": \"p\", \"steps\": 2}\n{\"id\": \"b\", \"prompt\": \"q\", \"steps\": 400}\n"
                           "{\"id\": \"c\", \"prompt\": \"q\"}\n");
    std::atomic<bool> stop{false};
    BatchCallbacks callbacks;
    callbacks.onClipProgress = [&stop](const ClipJob& job, const ProgressUpdate& u) {
        if (job.stem == "b" && u.step >= 2) stop = true;
    };
    const BatchSummary summary = BatchRunner(factory, optionsFor(out)).run(jobs, callbacks, stop);
    CHECK(summary.interrupted);
    CHECK(summary.counts.done == 1);
    CHECK(summary.counts.failed == 0);
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(out)) files.push_back(entry.path().filename().string());
    std::sort(files.begin(), files.end());
    CHECK(files == std::vector<std::string>{"a.flac", "a.json", "index.jsonl"});
}
