// The settings a generated clip carries: built once by AudioApi, written into WAV and FLAC,
// read back (also by `grym-synth-cli info`), and enough to make the same clip again.
#include "api/audio_api.h"
#include "api/clip_provenance.h"
#include "audio/audio_file.h"
#include "common/error.h"
#include "core/cli/cli_runner.h"
#include "core/test_files.h"
#include "models/audioldm/audioldm_service.h"

#include <catch2/catch.hpp>

#include <filesystem>

namespace fs = std::filesystem;
using namespace grym;

namespace {

const std::string kGoldenPipeline = std::string(GRYM_TEST_DATA_DIR) + "/golden/audioldm_pipeline_ddim";

AudioApiConfig quietConfig() {
    AudioApiConfig c;
    c.sampleMemory = false;
    c.queue.workerCount = 1;
    return c;
}

GenerateRequest tinyRequest() {
    GenerateRequest r;
    r.prompt = "a door creaking, \"slowly\"";
    r.negativePrompt = "music";
    r.durationSeconds = 0.32;
    r.steps = 3;
    r.guidanceScale = 3.0;
    r.seed = 11;
    r.scheduler = "ddim";
    return r;
}

TaskResult generate(AudioApi& api, const GenerateRequest& request) {
    return api.generateAudio(request).result().get();
}

}  // namespace

TEST_CASE("a Hub snapshot folder names its repository and commit; another folder its own name", "[provenance]") {
    const auto hub = identifyModelFolder("/home/u/.cache/huggingface/hub/models--cvssp--audioldm-s-full-v2/snapshots/"
                                         "0123abcd/");
    CHECK(hub.id == "cvssp/audioldm-s-full-v2");
    CHECK(hub.commit == "0123abcd");
    const auto plain = identifyModelFolder("/data/models/my-audioldm");
    CHECK(plain.id == "my-audioldm");
    CHECK(plain.commit.empty());
}

TEST_CASE("provenance JSON round-trips and a malformed one is refused naming the field", "[provenance]") {
    ClipProvenance c;
    c.prompt = "thunder";
    c.negativePrompt = "rain";
    c.seed = 42;
    c.steps = 20;
    c.guidance = 2.5;
    c.scheduler = "dpm++";
    c.durationSeconds = 4.0;
    c.sampleRate = 48000;
    c.modelId = "cvssp/audioldm-s-full-v2";
    c.modelCommit = "abc";
    c.modelFolder = "/m";
    c.device = "cpu";
    c.precision = "int8";
    c.version = "1.2.3";
    c.created = "2026-12-03T12:00:00Z";
    c.variationStrength = 0.4;
    const ClipProvenance back = provenanceFromJson(toJson(c), "test");
    CHECK(toJson(back) == toJson(c));

    nlohmann::json bad = toJson(c);
    bad["seed"] = "many";
    CHECK_THROWS_WITH(provenanceFromJson(bad, "clip.wav settings"), Catch::Contains("clip.wav settings") &&
                                                                        Catch::Contains("seed"));
    const GenerateRequest request = toGenerateRequest(c);
    CHECK(request.prompt == "thunder");
    CHECK(request.seed == 42);
    CHECK(request.steps == 20);
    CHECK(request.outputSampleRate == 48000);
    CHECK(request.scheduler == "dpm++");
}

TEST_CASE("a generated clip carries its settings in WAV and FLAC, and they make the same audio again",
          "[provenance][pipeline]") {
    AudioApi api(quietConfig());
    api.addService(std::make_shared<audioldm::AudioLdmService>(
        audioldm::AudioLdmServiceOptions{kGoldenPipeline, ComputeDevice::Cpu, Precision::Fp32}));
    const TaskResult first = generate(api, tinyRequest());
    REQUIRE(first.audio);
    const auto settings = provenanceOf(first);
    REQUIRE(settings);
    CHECK(settings->prompt == tinyRequest().prompt);
    CHECK(settings->negativePrompt == "music");
    CHECK(settings->seed == 11);
    CHECK(settings->steps == 3);
    CHECK(settings->guidance == 3.0);
    CHECK(settings->scheduler == "ddim");
    CHECK(settings->modelId == "audioldm_pipeline_ddim");
    CHECK(settings->modelFolder == kGoldenPipeline);
    CHECK(settings->precision == "fp32");
    CHECK(settings->device == "cpu");
    CHECK(settings->version == GRYM_VERSION);

    test::ScratchFolder dir;
    const std::string wav = (dir.path() / "clip.wav").string(), flac = (dir.path() / "clip.flac").string();
    saveAudioFile(wav, *first.audio, {AudioFileFormat::FromExtension, SampleEncoding::Float32, toAudioMetadata(*settings)});
    saveAudioFile(flac, *first.audio, {AudioFileFormat::FromExtension, SampleEncoding::Pcm24, toAudioMetadata(*settings)});
    for (const auto& path : {wav, flac}) {
        INFO(path);
        const auto back = readProvenance(path);
        REQUIRE(back);
        CHECK(toJson(*back) == toJson(*settings));
    }

    // The seed is the one the service used, so a request without one is reproducible too.
    GenerateRequest unseeded = tinyRequest();
    unseeded.seed.reset();
    const TaskResult drawn = generate(api, unseeded);
    const auto drawnSettings = provenanceOf(drawn);
    REQUIRE(drawnSettings);

    // Same build, same device: the settings read from the file give bit-identical audio.
    const TaskResult again = generate(api, toGenerateRequest(*readProvenance(wav)));
    REQUIRE(again.audio);
    CHECK(again.audio->samples == loadAudioFile(wav).samples);
    CHECK(again.audio->samples == first.audio->samples);
    const TaskResult drawnAgain = generate(api, toGenerateRequest(*drawnSettings));
    CHECK(drawnAgain.audio->samples == drawn.audio->samples);
}

TEST_CASE("a file with malformed settings is reported naming the file; one without has none", "[provenance]") {
    test::ScratchFolder dir;
    AudioBuffer tone;
    tone.sampleRate = 16000;
    tone.channels = 1;
    tone.samples.assign(1600, 0.1f);
    const std::string plain = (dir.path() / "plain.wav").string(), broken = (dir.path() / "broken.wav").string();
    saveAudioFile(plain, tone);
    AudioMetadata metadata;
    metadata.settingsJson = "{not json";
    saveAudioFile(broken, tone, {AudioFileFormat::FromExtension, SampleEncoding::Pcm16, metadata});
    CHECK_FALSE(readProvenance(plain));
    CHECK_THROWS_WITH(readProvenance(broken), Catch::Contains(broken) && Catch::Contains("not valid JSON"));
}

TEST_CASE("cli generate embeds the settings, info shows them, and generate --from makes the same file again",
          "[provenance][cli]") {
    test::ScratchFolder dir;
    const std::string first = (dir.path() / "first.wav").string(), again = (dir.path() / "again.wav").string();
    const auto made = test::runCli(dir.path(), "generate 'a bell in a hall' -q -o '" + first + "' --model '" +
                                                   kGoldenPipeline + "' --steps 2 --duration 0.32 --seed 5 --negative hum");
    INFO(made.out << made.err);
    REQUIRE(made.exitCode == 0);

    const auto info = test::runCli(dir.path(), "info '" + first + "'");
    INFO(info.out << info.err);
    REQUIRE(info.exitCode == 0);
    CHECK_THAT(info.out, Catch::Contains("a bell in a hall") && Catch::Contains("seed:      5") &&
                             Catch::Contains("steps:     2") && Catch::Contains("negative:  hum") &&
                             Catch::Contains("audioldm_pipeline_ddim") && Catch::Contains(GRYM_VERSION));
    const auto json = test::runCli(dir.path(), "info --json '" + first + "'");
    REQUIRE(json.exitCode == 0);
    CHECK(nlohmann::json::parse(json.out)[0]["settings"]["seed"] == 5);

    // No prompt, no model: both come from the file (its model folder still exists).
    const auto remade = test::runCli(dir.path(), "generate --from '" + first + "' -q -o '" + again + "'");
    INFO(remade.out << remade.err);
    REQUIRE(remade.exitCode == 0);
    CHECK(loadAudioFile(again).samples == loadAudioFile(first).samples);  // both 32-bit float
    CHECK(toJson(*readProvenance(again)).at("seed") == 5);
}
