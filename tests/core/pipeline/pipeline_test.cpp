#include "audio/audio_file.h"
#include "common/error.h"
#include "golden/golden_case.h"
#include "models/audioldm/audioldm_service.h"
#include "models/audioldm/mel.h"
#include "models/audioldm/pipeline.h"
#include "models/audioldm/random_model.h"
#include "weights/safetensors.h"
#include "weights/safetensors_writer.h"

#include "core/numeric_bounds.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sys/wait.h>

namespace fs = std::filesystem;
using namespace grym;
using namespace grym::audioldm;

namespace {

std::string goldenDir(const std::string& name) { return std::string(GRYM_TEST_DATA_DIR) + "/golden/" + name; }

// A scratch folder removed at the end of the test.
struct TempDir {
    fs::path path;
    TempDir() {
        path = fs::temp_directory_path() / ("grym_pipe_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++));
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    static int& counter() {
        static int c = 0;
        return c;
    }
};

const AudioLdmPipeline& tinyPipeline() {
    static const AudioLdmPipeline pipeline = AudioLdmPipeline::load(goldenDir("audioldm_pipeline_ddim"));
    return pipeline;
}

GenerationRequest shortRequest() {
    GenerationRequest r;
    r.prompt = "a dog barking";
    r.steps = 3;
    r.durationSeconds = 0.32;
    r.seed = 5;
    return r;
}

}  // namespace

TEST_CASE("pipeline reproduces diffusers' AudioLDM end to end on the golden cases", "[pipeline]") {
    for (const char* name : {"audioldm_pipeline_ddim", "audioldm_pipeline_dpmpp"}) {
        auto report = runGoldenCase(goldenDir(name));
        INFO(name << ": " << report.error);
        for (const auto& cmp : report.comparisons)
            if (!cmp.passed) INFO(cmp.output << " rel " << cmp.relativeL2 << " abs " << cmp.maxAbs << " " << cmp.note);
        CHECK(report.passed());
    }
}

TEST_CASE("pipeline length arithmetic follows the reference", "[pipeline]") {
    const auto& p = tinyPipeline();
    auto a = p.layoutFor(0.5);  // 50 frames -> rounded up to 52 (scale factor 4)
    CHECK(a.melFrames == 52);
    CHECK(a.latentHeight == 13);
    CHECK(a.latentWidth == 16);
    CHECK(a.audioSamples == 8000);
    CHECK(p.layoutFor(0.32).melFrames == 32);
    CHECK(p.defaultDurationSeconds() == Approx(16 * 4 * 0.01));
}

TEST_CASE("pipeline is deterministic for a seed and honours variations and output rate", "[pipeline]") {
    const auto& p = tinyPipeline();
    auto request = shortRequest();
    auto a = p.generate(request), b = p.generate(request);
    REQUIRE(a.audio.size() == 1);
    CHECK(a.audio[0].samples == b.audio[0].samples);
    CHECK(a.audio[0].frames() == 5120);
    CHECK(a.audio[0].sampleRate == 16000);
    request.seed = 6;
    CHECK(p.generate(request).audio[0].samples != a.audio[0].samples);

    request.variations = 2;
    request.outputSampleRate = 48000;
    auto two = p.generate(request);
    REQUIRE(two.audio.size() == 2);
    CHECK(two.audio[0].sampleRate == 48000);
    CHECK(two.audio[0].frames() == 15360);
    CHECK(two.audio[0].samples != two.audio[1].samples);

    request = shortRequest();
    request.guidanceScale = 1.0;  // no guidance: one embedding, no negative
    auto plain = p.generate(request);
    CHECK(plain.promptEmbeds.size(0) == 1);
    CHECK(std::all_of(plain.audio[0].samples.begin(), plain.audio[0].samples.end(), [](float v) { return std::isfinite(v); }));
}

TEST_CASE("pipeline reports progress and stops when cancelled", "[pipeline]") {
    const auto& p = tinyPipeline();
    std::vector<ProgressUpdate> updates;
    p.generate(shortRequest(), [&](const ProgressUpdate& u) { updates.push_back(u); });
    REQUIRE(!updates.empty());
    int denoising = 0;
    for (size_t i = 1; i < updates.size(); ++i) CHECK(updates[i].fraction >= updates[i - 1].fraction);
    for (const auto& u : updates)
        if (u.stage == "denoising") {
            ++denoising;
            CHECK(u.totalSteps == 3);
            CHECK(u.secondsRemaining >= 0);
        }
    CHECK(denoising == 3);
    CHECK(updates.back().fraction == 1.0);

    CancellationToken token;
    int stepsSeen = 0;
    auto cancelAfterFirst = [&](const ProgressUpdate& u) {
        if (u.stage == "denoising" && ++stepsSeen == 1) token.cancel();
    };
    CHECK_THROWS_AS(p.generate(shortRequest(), cancelAfterFirst, &token), TaskCancelled);
    CHECK(stepsSeen == 1);
}

TEST_CASE("pipeline switches schedulers and varies an existing clip", "[pipeline]") {
    const auto& p = tinyPipeline();
    auto request = shortRequest();
    request.scheduler = SchedulerKind::DpmSolverMultistep;
    auto dpm = p.generate(request);
    CHECK(dpm.timesteps.front() == 999);

    AudioBuffer clip;
    clip.sampleRate = 22050;
    clip.channels = 2;
    for (int i = 0; i < 22050 / 2; ++i) {
        const float v = 0.3f * std::sin(2 * M_PI * 440 * i / 22050.0);
        clip.samples.push_back(v);
        clip.samples.push_back(v);
    }
    request = shortRequest();
    request.sourceAudio = clip;
    request.durationSeconds = 0;  // the clip's length
    request.steps = 10;
    request.strength = 0.5;
    auto varied = p.generate(request);
    CHECK(varied.timesteps.size() == 5);
    CHECK(varied.audio[0].frames() == 8000);
    request.strength = 0.0;  // nothing to denoise: the clip through the VAE and vocoder
    CHECK(p.generate(request).timesteps.empty());
}

TEST_CASE("pipeline rejects bad requests and incomplete folders with clear errors", "[pipeline]") {
    const auto& p = tinyPipeline();
    auto r = shortRequest();
    r.steps = 0;
    CHECK_THROWS_WITH(p.generate(r), Catch::Contains("steps"));
    r = shortRequest();
    r.initialLatents = torch::zeros({1, 8, 3, 16});
    CHECK_THROWS_WITH(p.generate(r), Catch::Contains("initial latents"));
    r = shortRequest();
    r.durationSeconds = 1e6;
    CHECK_THROWS_WITH(p.generate(r), Catch::Contains("duration"));

    TempDir dir;
    fs::copy(goldenDir("audioldm_pipeline_ddim"), dir.path, fs::copy_options::recursive);
    fs::remove_all(dir.path / "vae");
    fs::remove(dir.path / "vocoder" / "model.safetensors");
    CHECK_THROWS_WITH(validatePipelineFolder(dir.path.string()),
                      Catch::Contains("vae/") && Catch::Contains("vocoder/model.safetensors"));
    CHECK_THROWS_WITH(AudioLdmPipeline::load((dir.path / "nope").string()), Catch::Contains("no AudioLDM model at"));
}

TEST_CASE("log-mel spectrogram uses Slaney mel bands over centred STFT frames", "[pipeline][mel]") {
    MelConfig config;
    auto bank = slaneyMelFilterbank(config);
    CHECK(bank.sizes() == torch::IntArrayRef({64, 513}));
    CHECK(bank.min().item<float>() >= 0.0f);
    // Bands sit in ascending frequency order.
    auto peaks = bank.argmax(1);
    for (int64_t m = 1; m < 64; ++m) CHECK(peaks[m].item<int64_t>() >= peaks[m - 1].item<int64_t>());

    auto t = torch::arange(16000, torch::kFloat32) / 16000.0;
    auto tone = 0.5 * torch::sin(2 * M_PI * 1000.0 * t);
    auto mel = logMelSpectrogram(tone, config);
    CHECK(mel.sizes() == torch::IntArrayRef({101, 64}));
    // The 1 kHz tone lands in the band whose filter peaks nearest 1 kHz.
    const auto loudest = mel[50].argmax().item<int64_t>();
    const double peakHz = peaks[loudest].item<int64_t>() * 16000.0 / 1024;
    CHECK(std::abs(peakHz - 1000.0) < 120.0);
    // Clamped at 1e-5 before the log; the float32 log is within a unit roundoff of its value.
    CHECK(mel.min().item<float>() >= std::log(1e-5f) * (1 + grym::test::unitRoundoff(torch::kFloat32)));
    CHECK_THROWS_AS(logMelSpectrogram(torch::zeros({100}), config), AudioError);
}

TEST_CASE("generate CLI writes the reference audio for a golden folder and its latents", "[pipeline][cli]") {
    const auto caseDir = goldenDir("audioldm_pipeline_ddim");
    GoldenCase golden(caseDir);
    const auto& run = golden.spec().at("runs")[0];
    TempDir dir;
    const auto latents = (dir.path / "latents.safetensors").string();
    saveSafetensors(latents, {{"latents", golden.tensor("run0.latents")}});
    const auto wav = (dir.path / "out.wav").string();
    std::ostringstream cmd;
    cmd << "\"" << GRYM_CLI_PATH << "\" generate \"" << run.at("prompt").get<std::string>() << "\" -o \"" << wav
        << "\" --model \"" << caseDir << "\" --steps " << run.at("num_inference_steps").get<int>() << " --guidance "
        << run.at("guidance_scale").get<double>() << " --duration " << run.at("audio_length_in_s").get<double>()
        << " --negative \"" << run.at("negative_prompt").get<std::string>() << "\" --latents \"" << latents
        << "\" --quiet > /dev/null 2>&1";
    REQUIRE(std::system(cmd.str().c_str()) == 0);
    auto audio = loadAudioFile(wav);
    REQUIRE(audio.channels == 1);
    auto ours = torch::from_blob(audio.samples.data(), {1, audio.frames()}, torch::kFloat32).clone();
    auto cmp = compareTensors("audio", ours, golden.tensor("run0.audio"), golden.toleranceRelativeL2(),
                              golden.toleranceMaxAbs());
    INFO("rel " << cmp.relativeL2 << " abs " << cmp.maxAbs << " " << cmp.note);
    CHECK(cmp.passed);

    const std::string bad = "\"" + std::string(GRYM_CLI_PATH) + "\" generate x -o \"" + wav + "\" --model \"" +
                            caseDir + "\" --precision fp16 > /dev/null 2>&1";  // half precision is CUDA-only
    CHECK(std::system(bad.c_str()) != 0);
}

TEST_CASE("audioldm service loads, generates, cancels and unloads", "[pipeline][service]") {
    AudioLdmService service({goldenDir("audioldm_pipeline_ddim"), ComputeDevice::Cpu, Precision::Fp32});
    CHECK(service.id() == "audioldm");
    CHECK(service.info().status == ServiceStatus::Unloaded);
    CHECK(service.estimatedMemoryBytes() > 0);
    TaskInput input;
    input.prompt = "rain";
    input.parameters = {{"steps", 2}, {"duration", 0.32}, {"seed", 3}, {"scheduler", "dpm++"}};
    CancellationToken token;
    CHECK_THROWS_AS(service.run(input, {}, token), TaskError);
    service.load();
    CHECK(service.isReady());
    auto result = service.run(input, {}, token);
    REQUIRE(result.audio);
    CHECK(result.audio->frames() == 5120);
    CHECK(result.data["steps"] == 2);
    CHECK(service.info().status == ServiceStatus::Ready);

    token.cancel();
    CHECK_THROWS_AS(service.run(input, {}, token), TaskCancelled);
    input.parameters["steps"] = "many";
    CancellationToken fresh;
    CHECK_THROWS_AS(service.run(input, {}, fresh), TaskError);
    service.unload();
    CHECK(service.info().status == ServiceStatus::Unloaded);

    AudioLdmService half({goldenDir("audioldm_pipeline_ddim"), ComputeDevice::Cpu, Precision::Fp16});
    CHECK_THROWS_WITH(half.load(), Catch::Contains("fp16"));
    CHECK(half.info().status == ServiceStatus::Failed);
}

TEST_CASE("make-random-model writes a loadable folder marked as random", "[pipeline][random]") {
    // A small "full config" folder: the golden pipeline's configs and a manifest of its tensors.
    TempDir dir;
    const fs::path golden = goldenDir("audioldm_pipeline_ddim");
    const fs::path configs = dir.path / "configs";
    nlohmann::json manifest;
    const std::map<std::string, std::string> checkpoints = {{"text_encoder", "model.safetensors"},
                                                            {"unet", "diffusion_pytorch_model.safetensors"},
                                                            {"vae", "diffusion_pytorch_model.safetensors"},
                                                            {"vocoder", "model.safetensors"}};
    for (const auto& [component, file] : checkpoints) {
        fs::create_directories(configs / component);
        fs::copy_file(golden / component / "config.json", configs / component / "config.json");
        SafetensorsFile weights((golden / component / file).string());
        for (const auto& info : weights.tensors())
            manifest[component]["tensors"][info.name] = {{"shape", info.shape},
                                                         {"dtype", info.dtype == "I64" ? "int64" : "float32"}};
    }
    fs::create_directories(configs / "scheduler");
    fs::copy_file(golden / "scheduler" / "scheduler_config.json", configs / "scheduler" / "scheduler_config.json");
    fs::copy_file(golden / "model_index.json", configs / "model_index.json");
    std::ofstream(configs / "manifest.json") << manifest.dump();

    const auto out = dir.path / "random";
    auto summary = writeRandomAudioLdmModel(configs.string(), out.string(), (golden / "tokenizer").string(), 1);
    CHECK(summary.parameters > 0);
    SafetensorsFile unet((out / "unet" / "diffusion_pytorch_model.safetensors").string());
    CHECK(unet.metadata().at("grym_random_weights") == "true");
    auto pipeline = AudioLdmPipeline::load(out.string());
    CHECK(pipeline.randomWeights());
    CHECK_FALSE(tinyPipeline().randomWeights());
    auto result = pipeline.generate(shortRequest());
    CHECK(torch::isfinite(result.waveform).all().item<bool>());
}

TEST_CASE("generate CLI writes numbered variations, varies a clip and explains bad options", "[pipeline][cli]") {
    const auto caseDir = goldenDir("audioldm_pipeline_ddim");
    TempDir dir;
    const auto out = (dir.path / "rain.wav").string();
    const std::string cli = "\"" + std::string(GRYM_CLI_PATH) + "\" generate ";
    const std::string common = " --model \"" + caseDir + "\" --steps 2 --duration 0.32 --quiet";
    const auto log = (dir.path / "log.txt").string();
    REQUIRE(std::system((cli + "rain -o \"" + out + "\"" + common + " --variations 2 --seed 9 --sample-rate 48000 > \"" +
                         log + "\" 2>&1").c_str()) == 0);
    auto first = loadAudioFile((dir.path / "rain_1.wav").string());
    auto second = loadAudioFile((dir.path / "rain_2.wav").string());
    CHECK(first.sampleRate == 48000);
    CHECK(first.frames() == 15360);
    CHECK(first.samples != second.samples);
    std::ifstream logFile(log);
    const std::string printed((std::istreambuf_iterator<char>(logFile)), std::istreambuf_iterator<char>());
    CHECK_THAT(printed, Catch::Contains("seed 9") && Catch::Contains("seed 10"));

    // A variation of the clip just written.
    const auto varied = (dir.path / "varied.wav").string();
    REQUIRE(std::system((cli + "\"more rain\" -o \"" + varied + "\"" + common + " --input \"" +
                         (dir.path / "rain_1.wav").string() + "\" --strength 0.5 > /dev/null 2>&1").c_str()) == 0);
    CHECK(loadAudioFile(varied).frames() == 5120);

    // A FLAC name without --bits gets 24-bit PCM (FLAC has no float samples); WAV stays float.
    const auto flac = (dir.path / "rain.flac").string();
    REQUIRE(std::system((cli + "rain -o \"" + flac + "\"" + common + " > /dev/null 2>&1").c_str()) == 0);
    CHECK(probeAudioFile(flac).encoding == "PCM 24-bit");
    CHECK(probeAudioFile(varied).encoding == "float 32-bit");

    // Usage errors exit with 2 and say what is wrong.
    const auto err = (dir.path / "err.txt").string();
    CHECK(WEXITSTATUS(std::system((cli + "rain -o x.wav" + common + " --steps zero 2> \"" + err + "\"").c_str())) == 2);
    std::ifstream errFile(err);
    const std::string message((std::istreambuf_iterator<char>(errFile)), std::istreambuf_iterator<char>());
    CHECK_THAT(message, Catch::Contains("--steps expects a number"));
    CHECK(WEXITSTATUS(std::system((cli + "rain -o x.wav --model \"" + (dir.path / "none").string() +
                                   "\" --quiet > /dev/null 2>&1").c_str())) == 1);
}

TEST_CASE("int8 and int4 services quantise the UNet and VAE and still generate", "[pipeline][quantization]") {
    auto reference = tinyPipeline().generate(shortRequest());
    for (const auto precision : {Precision::Int8, Precision::Int4}) {
        INFO(toString(precision));
        AudioLdmService service({goldenDir("audioldm_pipeline_ddim"), ComputeDevice::Cpu, precision});
        service.load();
        CHECK(service.info().precision == precision);
        TaskInput input;
        input.prompt = shortRequest().prompt;
        input.parameters = {{"steps", shortRequest().steps}, {"duration", 0.32}, {"seed", shortRequest().seed}};
        CancellationToken token;
        auto result = service.run(input, {}, token);
        REQUIRE(result.audio);
        REQUIRE(result.audio->frames() == 5120);
        auto ours = torch::from_blob(result.audio->samples.data(), {5120}, torch::kFloat32);
        CHECK(torch::isfinite(ours).all().item<bool>());
        // Same seed, same request: close to the float32 result, not equal to it.
        const double relative = (ours - reference.waveform[0]).norm().item<double>() / reference.waveform[0].norm().item<double>();
        CHECK(relative > 0.0);
        CHECK(relative < (precision == Precision::Int8 ? 0.1 : 0.5));
    }

    auto pipeline = AudioLdmPipeline::load(goldenDir("audioldm_pipeline_ddim"));
    const auto before = pipeline.parameterBytes();
    const auto report = pipeline.quantizeWeights(WeightQuantization::Int8);
    CHECK(report.layers > 0);
    CHECK(report.bytesAfter < report.bytesBefore);
    CHECK(pipeline.parameterBytes() == before - report.bytesSaved());
    CHECK(pipeline.quantization() == WeightQuantization::Int8);
}

TEST_CASE("bench measures the audioldm service and its components as JSON", "[pipeline][bench]") {
    const auto caseDir = goldenDir("audioldm_pipeline_ddim");
    TempDir dir;
    auto runJson = [&](const std::string& arguments) {
        const auto out = (dir.path / "bench.json").string();
        const std::string cmd = "\"" + std::string(GRYM_CLI_PATH) + "\" bench " + arguments + " --json > \"" + out +
                                "\" 2>/dev/null";
        REQUIRE(std::system(cmd.c_str()) == 0);
        std::ifstream in(out);
        return nlohmann::json::parse(in);
    };
    const auto service = runJson("--model \"" + caseDir + "\" --steps 2 --duration 0.5 --iterations 1");
    CHECK(service["benchmark"] == "service");
    CHECK(service["service"]["id"] == "audioldm");
    CHECK(service["generationMetrics"]["averageGenerationTime"].get<double>() > 0.0);

    const auto components = runJson("audioldm --model \"" + caseDir + "\" --steps 2 --seconds 0.32 --repeats 1 --precision int8");
    CHECK(components["components"]["unet_step_batch2_seconds"].get<double>() > 0.0);
    CHECK(components["components"]["unet_step_batch2_cpu_seconds"].get<double>() >= 0.0);
    CHECK(components["end_to_end"][0]["steps"] == 2);
    CHECK(components["quantization"]["level"] == "int8");
    CHECK(components["random_weights"] == false);
}
