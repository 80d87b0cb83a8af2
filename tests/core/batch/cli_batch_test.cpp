// `grym-synth-cli batch` as users run it, with the tiny golden AudioLDM pipeline: a 12-line
// manifest as 3 shards in parallel processes, a shard killed with SIGKILL mid-clip and rerun,
// malformed lines reported by number, and a take made again bit for bit from its seed.
#include "audio/audio_file.h"
#include "core/cli/cli_runner.h"
#include "core/test_files.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <set>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;
using grym::test::readWholeFile;
using grym::test::ScratchFolder;
using grym::test::writeWholeFile;

namespace {

const std::string kModel = std::string(GRYM_TEST_DATA_DIR) + "/golden/audioldm_pipeline_ddim";

// The golden pipeline's latents are 8 frames for 0.32 s: the shortest clip it makes.
constexpr double kSeconds = 0.32;
constexpr int kFrames = 5120;  // 0.32 s at 16 kHz

// Twelve lines, the fourth with two takes (13 clips), seeds derived except on the last line.
std::string twelveLineManifest() {
    std::string text;
    for (int i = 0; i < 12; ++i) {
        text += "{\"id\": \"clip" + std::to_string(i) + "\", \"prompt\": \"sound number " + std::to_string(i) + "\"";
        if (i == 3) text += ", \"takes\": 2";
        if (i == 11) text += ", \"seed\": 7";
        text += "}\n";
    }
    return text;
}
const std::vector<std::string> kExpectedStems = {"clip0", "clip1", "clip2", "clip3-1", "clip3-2", "clip4", "clip5",
                                                 "clip6", "clip7", "clip8", "clip9", "clip10", "clip11"};

// A grym-synth-cli process running in the background, its output in `log`.
pid_t startCli(const std::vector<std::string>& arguments, const fs::path& log) {
    // Everything the child needs is prepared before fork: between fork and exec it may only
    // make async-signal-safe calls (this process has other threads).
    std::vector<char*> argv{const_cast<char*>(GRYM_CLI_PATH)};
    for (const auto& a : arguments) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const std::string logPath = log.string();
    const pid_t child = fork();
    if (child == 0) {
        const int fd = ::open(logPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        execv(GRYM_CLI_PATH, argv.data());
        _exit(127);
    }
    return child;
}

int waitForExit(pid_t child) {
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

std::vector<std::string> batchArguments(const fs::path& manifest, const fs::path& out, int steps) {
    return {"batch", manifest.string(), "--out", out.string(), "--model", kModel, "--seconds", std::to_string(kSeconds),
            "--steps", std::to_string(steps), "--threads", "1"};
}

std::vector<nlohmann::json> doneRecords(const fs::path& out) {
    std::vector<nlohmann::json> records;
    std::istringstream lines(readWholeFile(out / "index.jsonl"));
    for (std::string line; std::getline(lines, line);) {
        const auto record = nlohmann::json::parse(line);  // a torn line would throw here
        if (record["status"] == "done") records.push_back(record);
    }
    return records;
}

// Every expected clip exactly once: whole audio, a complete sidecar, one done line in the index,
// and nothing else in the folder (no temporaries, no strays).
void checkCompleteBatch(const fs::path& out, const fs::path& manifest) {
    std::set<std::string> expectedFiles = {"index.jsonl"};
    for (const auto& stem : kExpectedStems) {
        INFO(stem);
        expectedFiles.insert(stem + ".flac");
        expectedFiles.insert(stem + ".json");
        const grym::AudioBuffer audio = grym::loadAudioFile((out / (stem + ".flac")).string());
        CHECK(audio.frames() == kFrames);
        const auto sidecar = nlohmann::json::parse(readWholeFile(out / (stem + ".json")));
        CHECK(sidecar["file"] == stem + ".flac");
        CHECK(sidecar["grym_synth_version"] == GRYM_VERSION);
        CHECK(sidecar["prompt"].get<std::string>().rfind("sound number ", 0) == 0);
        CHECK(sidecar["seconds"] == kSeconds);
        CHECK(sidecar["scheduler"] == "ddim");
        CHECK(sidecar["seed"].is_number_integer());
        CHECK(sidecar["service"]["seed"] == sidecar["seed"]);  // the seed the model actually used
        CHECK(fs::equivalent(sidecar["model"]["folder"].get<std::string>(), kModel));
        CHECK(sidecar["precision"] == "fp32");
        CHECK(sidecar["device"] == "cpu");
        CHECK(fs::equivalent(sidecar["manifest"]["path"].get<std::string>(), manifest));
        CHECK(sidecar["manifest"]["line"].is_number_integer());
        CHECK(sidecar["timings"]["generation_seconds"].get<double>() > 0);
        CHECK(sidecar["timings"].contains("model_load_seconds"));
        CHECK(sidecar["audio"]["frames"] == kFrames);
        CHECK(!sidecar["started_at"].get<std::string>().empty());
    }
    const auto clip11 = nlohmann::json::parse(readWholeFile(out / "clip11.json"));
    CHECK(clip11["seed"] == 7);
    std::set<std::string> present;
    for (const auto& entry : fs::directory_iterator(out)) present.insert(entry.path().filename().string());
    CHECK(present == expectedFiles);
    std::map<std::string, int> indexed;
    for (const auto& record : doneRecords(out)) ++indexed[record["file"].get<std::string>()];
    CHECK(indexed.size() == kExpectedStems.size());
    for (const auto& [file, count] : indexed) {
        INFO(file);
        CHECK(count == 1);
    }
}

}  // namespace

TEST_CASE("a 12-line manifest run as 3 parallel shards makes every clip exactly once", "[batch][cli]") {
    ScratchFolder scratch;
    const fs::path manifest = scratch.path() / "clips.jsonl", out = scratch.path() / "out";
    writeWholeFile(manifest, twelveLineManifest());
    std::vector<pid_t> shards;
    for (int i = 0; i < 3; ++i) {
        auto arguments = batchArguments(manifest, out, 2);
        arguments.insert(arguments.end(), {"--shard", std::to_string(i) + "/3"});
        shards.push_back(startCli(arguments, scratch.path() / ("shard" + std::to_string(i) + ".log")));
    }
    for (size_t i = 0; i < shards.size(); ++i) {
        INFO(readWholeFile(scratch.path() / ("shard" + std::to_string(i) + ".log")));
        CHECK(waitForExit(shards[i]) == 0);
    }
    checkCompleteBatch(out, manifest);
    // Each shard made the lines whose index is its own mod 3.
    for (const auto& record : doneRecords(out))
        CHECK(record["shard"] == std::to_string((record["line"].get<int>() - 1) % 3) + "/3");

    // A rerun of the whole batch finds everything finished and loads no model.
    const auto again = grym::test::runCli(scratch.path(), "batch '" + manifest.string() + "' --out '" + out.string() +
                                                              "' --model '" + kModel + "' --seconds 0.32 --steps 2");
    INFO(again.err);
    CHECK(again.exitCode == 0);
    CHECK(again.out.find("0 done, 13 skipped") != std::string::npos);
    CHECK(again.err.find("loading") == std::string::npos);
}

TEST_CASE("a shard killed with SIGKILL mid-clip is completed by a rerun that redoes no finished clip", "[batch][cli]") {
    ScratchFolder scratch;
    const fs::path manifest = scratch.path() / "clips.jsonl", out = scratch.path() / "out";
    writeWholeFile(manifest, twelveLineManifest());
    // Enough steps that a clip takes a while, so the kill lands while one is being made.
    const pid_t shard = startCli(batchArguments(manifest, out, 20), scratch.path() / "killed.log");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline) {
        if (fs::exists(out / "index.jsonl") && doneRecords(out).size() >= 2) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    kill(shard, SIGKILL);
    CHECK(waitForExit(shard) == -SIGKILL);
    const auto finished = doneRecords(out);
    INFO(readWholeFile(scratch.path() / "killed.log"));
    REQUIRE(finished.size() >= 2);
    REQUIRE(finished.size() < kExpectedStems.size());
    std::map<std::string, fs::file_time_type> finishedAt;
    for (const auto& record : finished) {
        const std::string file = record["file"];
        finishedAt[file] = fs::last_write_time(out / file);
        CHECK(grym::loadAudioFile((out / file).string()).frames() == kFrames);
    }

    const auto rerun = grym::test::runCli(scratch.path(), "batch '" + manifest.string() + "' --out '" + out.string() +
                                                              "' --model '" + kModel + "' --seconds 0.32 --steps 20");
    INFO(rerun.err);
    CHECK(rerun.exitCode == 0);
    CHECK(rerun.out.find(std::to_string(finished.size()) + " skipped") != std::string::npos);
    for (const auto& [file, time] : finishedAt) {
        INFO(file);
        CHECK(fs::last_write_time(out / file) == time);  // not made again
    }
    checkCompleteBatch(out, manifest);
}

TEST_CASE("batch reports a malformed manifest line by number, skips it, and fails the run", "[batch][cli]") {
    ScratchFolder scratch;
    const fs::path manifest = scratch.path() / "clips.jsonl", out = scratch.path() / "out";
    writeWholeFile(manifest, "{\"id\": \"a\", \"prompt\": \"one\"}\n"
                             "{\"id\": \"b\", \"prompt\": \"two\", \"steps\": \"many\"}\n"
                             "{\"id\": \"c\", \"prompt\": \"three\"}\n");
    const std::string arguments =
        "batch '" + manifest.string() + "' --out '" + out.string() + "' --model '" + kModel + "' --seconds 0.32 --steps 2";
    const auto strict = grym::test::runCli(scratch.path(), arguments + " --strict");
    CHECK(strict.exitCode == 1);
    CHECK(strict.err.find("clips.jsonl line 2: field 'steps' = \"many\"") != std::string::npos);
    CHECK(strict.err.find("nothing was generated") != std::string::npos);
    CHECK_FALSE(fs::exists(out));

    const auto lenient = grym::test::runCli(scratch.path(), arguments);
    INFO(lenient.err);
    CHECK(lenient.exitCode == 1);
    CHECK(lenient.err.find("clips.jsonl line 2: field 'steps' = \"many\"") != std::string::npos);
    CHECK(lenient.out.find("2 done") != std::string::npos);
    CHECK(lenient.out.find("1 malformed line(s) skipped") != std::string::npos);
    CHECK(fs::exists(out / "a.flac"));
    CHECK(fs::exists(out / "c.flac"));
    CHECK_FALSE(fs::exists(out / "b.flac"));
}

TEST_CASE("a batch take is made again bit for bit from its sidecar's seed", "[batch][cli]") {
    ScratchFolder scratch;
    const fs::path first = scratch.path() / "first", second = scratch.path() / "second";
    writeWholeFile(scratch.path() / "a.jsonl", "{\"id\": \"rain\", \"prompt\": \"rain\", \"takes\": 2}\n");
    const std::string common = "' --model '" + kModel + "' --seconds 0.32 --steps 2 --format wav";
    CHECK(grym::test::runCli(scratch.path(), "batch '" + (scratch.path() / "a.jsonl").string() + "' --out '" +
                                                 first.string() + common).exitCode == 0);
    const auto sidecar = nlohmann::json::parse(readWholeFile(first / "rain-2.json"));
    // The same take on its own, with the seed the sidecar recorded.
    writeWholeFile(scratch.path() / "b.csv", "id,prompt,seed\nrain-2,rain," + sidecar["seed"].dump() + "\n");
    CHECK(grym::test::runCli(scratch.path(), "batch '" + (scratch.path() / "b.csv").string() + "' --out '" +
                                                 second.string() + common).exitCode == 0);
    const auto a = grym::loadAudioFile((first / "rain-2.wav").string());
    const auto b = grym::loadAudioFile((second / "rain-2.wav").string());
    CHECK(a.samples == b.samples);
    const auto c = grym::loadAudioFile((first / "rain-1.wav").string());
    CHECK(a.samples != c.samples);  // the takes differ
}
