// `grym-synth-cli models pull|list|verify|rm` and `--model ORG/NAME` as a user runs them,
// against the fake Hub on loopback and a scratch HF cache.
#include "audio/audio_file.h"
#include "core/cli/cli_runner.h"
#include "hub_test_support.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace grym;
using namespace grym::test;

namespace {

const fs::path kWav2vec2Case = fs::path(GRYM_TEST_DATA_DIR) / "golden" / "wav2vec2_base";
const std::string kRepo = "facebook/wav2vec2-base-960h";  // a recommended id, served with the tiny golden model

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

// The process environment a user of the shared cache would have, pointed at the fake Hub.
struct CliHubSession {
    FakeHubSession session;
    ScopedEnvironment environment;
    fs::path cache, models, work;
    CliHubSession() {
        cache = session.scratch.path() / "hub";
        models = session.scratch.path() / "models";
        work = session.scratch.path() / "work";
        fs::create_directories(models);
        fs::create_directories(work);
        environment.set("HF_ENDPOINT", session.server.endpoint());
        environment.set("HF_HOME", (session.scratch.path() / "hf-home").string());
        environment.set("HF_HUB_CACHE", cache.string());
        environment.set("HUGGINGFACE_HUB_CACHE", std::nullopt);
        environment.set("HF_TOKEN", std::nullopt);
        environment.set("HF_HUB_OFFLINE", std::nullopt);
    }
    CliRun run(const std::string& arguments) const { return runCli(work, arguments); }
};

fs::path writeTone(const fs::path& folder) {
    AudioBuffer tone;
    tone.sampleRate = 16000;
    tone.channels = 1;
    for (int i = 0; i < 16000; ++i) tone.samples.push_back(0.3f * static_cast<float>(std::sin(2 * M_PI * 220.0 * i / 16000)));
    const fs::path wav = folder / "tone.wav";
    saveAudioFile(wav.string(), tone);
    return wav;
}

}  // namespace

#ifdef GRYM_CLI_PATH
TEST_CASE("models pull fetches a repo into the HF cache, prints its snapshot, and a second pull fetches nothing",
          "[hub][cli]") {
    CliHubSession hub;
    hub.session.server.addRepoFromFolder(kRepo, kWav2vec2Case);

    const CliRun first = hub.run("models pull " + kRepo);
    INFO(first.err);
    REQUIRE(first.exitCode == 0);
    const fs::path snapshot = trimmed(first.out);
    CHECK(snapshot.parent_path().parent_path() == hub.cache / "models--facebook--wav2vec2-base-960h");
    CHECK(readWholeFile(snapshot / "config.json") == readWholeFile(kWav2vec2Case / "config.json"));
    CHECK(readWholeFile(snapshot / "model.safetensors") == readWholeFile(kWav2vec2Case / "model.safetensors"));
    CHECK_THAT(first.err, Catch::Contains("files downloaded"));

    const uint64_t bytesBefore = hub.session.server.stats("model.safetensors").bytesSent;
    const CliRun second = hub.run("models pull " + kRepo);
    REQUIRE(second.exitCode == 0);
    CHECK(trimmed(second.out) == snapshot.string());
    CHECK_THAT(second.err, Catch::StartsWith("pulling") && Catch::Contains("\n0 of "));
    CHECK(hub.session.server.stats("model.safetensors").bytesSent == bytesBefore);
}

TEST_CASE("models list shows cached and folder models, what the services use, and the recommended ones", "[hub][cli]") {
    CliHubSession hub;
    hub.session.server.addRepoFromFolder(kRepo, kWav2vec2Case);
    REQUIRE(hub.run("models pull " + kRepo).exitCode == 0);
    fs::create_directories(hub.models / "my-model");
    std::ofstream(hub.models / "my-model" / "notes.txt") << "not a model";

    const CliRun listed = hub.run("models list --json --models '" + hub.models.string() + "'");
    INFO(listed.err);
    REQUIRE(listed.exitCode == 0);
    const auto answer = nlohmann::json::parse(listed.out);
    CHECK(answer["hubCache"] == hub.cache.string());
    REQUIRE(answer["models"].size() == 2);
    const auto& folderModel = answer["models"][0];
    CHECK(folderModel["name"] == "my-model");
    CHECK(folderModel["source"] == "models-folder");
    CHECK_FALSE(folderModel["supported"].get<bool>());
    CHECK_FALSE(folderModel["reason"].get<std::string>().empty());
    const auto& cached = answer["models"][1];
    CHECK(cached["name"] == kRepo);
    CHECK(cached["source"] == "hf-cache");
    CHECK(cached["supported"].get<bool>());
    CHECK(cached["service"] == "wav2vec2");
    CHECK(cached["recommended"].get<bool>());
    CHECK(cached["bytes"].get<uint64_t>() >= fs::file_size(kWav2vec2Case / "model.safetensors"));
    // Nothing at MODELS/wav2vec2: the cached recommended repo serves the analysis.
    CHECK(answer["services"]["wav2vec2"]["origin"] == kRepo + " in the Hugging Face cache");
    CHECK(answer["services"]["wav2vec2"]["folder"] == cached["folder"]);
    CHECK(answer["services"]["audioldm"]["folder"] == (hub.models / "audioldm").string());
    bool recommendedInstalled = false;
    for (const auto& r : answer["recommended"])
        if (r["repoId"] == kRepo) recommendedInstalled = r["installed"].get<bool>();
    CHECK(recommendedInstalled);

    const CliRun text = hub.run("models list --models '" + hub.models.string() + "'");
    REQUIRE(text.exitCode == 0);
    CHECK_THAT(text.out, Catch::Contains(kRepo) && Catch::Contains("runs as wav2vec2") && Catch::Contains("[installed]"));
}

TEST_CASE("a repo id given as --model is found in the HF cache, and the pull command is named when it is not there", "[hub][cli]") {
    CliHubSession hub;
    hub.session.server.addRepoFromFolder(kRepo, kWav2vec2Case);
    const fs::path wav = writeTone(hub.work);

    const CliRun notCached = hub.run("analyze --json --model " + kRepo + " '" + wav.string() + "'");
    CHECK(notCached.exitCode == 2);
    CHECK_THAT(notCached.err, Catch::Contains("--model") && Catch::Contains("models pull " + kRepo));

    REQUIRE(hub.run("models pull " + kRepo).exitCode == 0);
    const CliRun analysed = hub.run("analyze --json --model " + kRepo + " '" + wav.string() + "'");
    INFO(analysed.err);
    REQUIRE(analysed.exitCode == 0);
    const auto report = nlohmann::json::parse(analysed.out);
    CHECK(report["features"]["wav2vec2"]["frames"].get<int64_t>() > 0);

    hub.environment.set("HF_HUB_OFFLINE", "1");  // resolving a cached repo never needs the network
    CHECK(hub.run("analyze --json --model " + kRepo + " '" + wav.string() + "'").exitCode == 0);
}

TEST_CASE("models verify finds a corrupted blob, and models rm deletes the repo", "[hub][cli]") {
    CliHubSession hub;
    hub.session.server.addRepoFromFolder(kRepo, kWav2vec2Case);
    const CliRun pulled = hub.run("models pull " + kRepo);
    REQUIRE(pulled.exitCode == 0);
    const fs::path snapshot = trimmed(pulled.out);

    const CliRun clean = hub.run("models verify " + kRepo);
    INFO(clean.out << clean.err);
    CHECK(clean.exitCode == 0);
    CHECK_THAT(clean.out, Catch::Contains("0 corrupt, 0 missing"));

    const fs::path blob = fs::canonical(snapshot / "model.safetensors");
    {
        std::fstream file(blob, std::ios::in | std::ios::out | std::ios::binary);
        file.seekp(100);
        file.put('\x5a');
    }
    const CliRun damaged = hub.run("models verify " + kRepo);
    CHECK(damaged.exitCode == 1);
    CHECK_THAT(damaged.out, Catch::Contains("CORRUPT") && Catch::Contains("model.safetensors"));
    CHECK_THAT(damaged.err, Catch::Contains("models rm " + kRepo));

    const CliRun removed = hub.run("models rm " + kRepo);
    CHECK(removed.exitCode == 0);
    CHECK_FALSE(fs::exists(hub.cache / "models--facebook--wav2vec2-base-960h"));
    const CliRun again = hub.run("models rm " + kRepo);
    CHECK(again.exitCode == 1);
    CHECK_THAT(again.err, Catch::Contains("not in the Hugging Face cache"));
}

TEST_CASE("models pull names an unknown repo and a gated one, with exit status 1", "[hub][cli]") {
    CliHubSession hub;
    hub.session.server.addRepoFromFolder("org/gated", kWav2vec2Case);
    hub.session.server.setGated("org/gated", "secret");
    const CliRun unknown = hub.run("models pull org/absent");
    CHECK(unknown.exitCode == 1);
    CHECK_THAT(unknown.err, Catch::Contains("org/absent"));
    const CliRun gated = hub.run("models pull org/gated");
    CHECK(gated.exitCode == 1);
    CHECK_THAT(gated.err, Catch::Contains("HF_TOKEN"));
    hub.environment.set("HF_TOKEN", "secret");
    CHECK(hub.run("models pull org/gated").exitCode == 0);
}
#endif
