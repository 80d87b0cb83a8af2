#include "analysis/wav2vec2_analysis_service.h"
#include "api/audio_api.h"
#include "audio/audio_file.h"
#include "support/fake_services.h"

#include <catch2/catch.hpp>

#include <filesystem>

using namespace grym;

namespace {

AudioApiConfig quietConfig() {
    AudioApiConfig c;
    c.sampleMemory = false;
    return c;
}

AudioBuffer tone(double seconds, int rate = 16000) {
    AudioBuffer a;
    a.sampleRate = rate;
    a.channels = 1;
    a.samples.assign(static_cast<size_t>(seconds * rate), 0.25f);
    return a;
}

}  // namespace

TEST_CASE("generate requests are validated field by field", "[api]") {
    ApiLimits limits;
    auto fieldOf = [&](const nlohmann::json& body) {
        try {
            parseGenerateRequest(body, limits);
        } catch (const FieldError& e) {
            return e.field();
        }
        return std::string("(accepted)");
    };
    CHECK(fieldOf({{"prompt", "rain"}}) == "(accepted)");
    CHECK(fieldOf(nlohmann::json::object()) == "prompt");
    CHECK(fieldOf({{"prompt", "  "}}) == "prompt");
    CHECK(fieldOf({{"prompt", 3}}) == "prompt");
    CHECK(fieldOf({{"prompt", "rain"}, {"steps", "ten"}}) == "steps");
    CHECK(fieldOf({{"prompt", "rain"}, {"steps", 0}}) == "steps");
    CHECK(fieldOf({{"prompt", "rain"}, {"duration", 1000}}) == "duration");
    CHECK(fieldOf({{"prompt", "rain"}, {"guidance", -1}}) == "guidance");
    CHECK(fieldOf({{"prompt", "rain"}, {"scheduler", "euler"}}) == "scheduler");
    CHECK(fieldOf({{"prompt", "rain"}, {"sample_rate", 22050}}) == "sample_rate");
    CHECK(fieldOf({{"prompt", "rain"}, {"colour", "blue"}}) == "colour");
    CHECK(fieldOf(nlohmann::json::array()) == "body");
    auto r = parseGenerateRequest({{"prompt", "rain"}, {"seed", 7}, {"steps", 4}}, limits);
    CHECK(r.seed.value() == 7);
    CHECK(r.steps == 4);
}

TEST_CASE("AudioApi runs generation and analysis through the queue and reports status", "[api]") {
    AudioApi api(quietConfig());
    api.addService(std::make_shared<test::FakeGenerationService>());
    api.addService(std::make_shared<test::FakeAnalysisService>());

    GenerateRequest req;
    req.prompt = "a bell";
    req.durationSeconds = 0.5;
    req.steps = 3;
    std::atomic<int> progressCalls{0};
    TaskCallbacks cb;
    cb.onProgress = [&](TaskId, const ProgressUpdate&) { ++progressCalls; };
    auto gen = api.generateAudio(req, cb);
    REQUIRE(gen.wait() == TaskState::Succeeded);
    auto result = gen.result().get();
    REQUIRE(result.audio);
    CHECK(result.audio->frames() == 8000);
    CHECK(progressCalls >= 3);

    auto an = api.analyzeAudio(tone(1.0));
    REQUIRE(an.wait() == TaskState::Succeeded);
    CHECK(an.result().get().data["features"]["duration"].get<double>() == Approx(1.0));

    auto handoff = api.analyzeGenerated(gen.id());
    REQUIRE(handoff.wait() == TaskState::Succeeded);
    // The generator's 8000 samples at 16 kHz, handed over as they are.
    CHECK(handoff.result().get().data["features"]["duration"].get<double>() == Approx(0.5));

    auto status = api.getServiceStatus();
    CHECK(status["audioldm"]["status"] == "ready");
    CHECK(status["wav2vec2"]["status"] == "ready");
    CHECK(status["memory"]["process_rss_bytes"].get<uint64_t>() > 0);
    CHECK(api.task(gen.id()).has_value());
}

TEST_CASE("AudioApi refuses bad audio and missing services with a clear error", "[api]") {
    AudioApi api(quietConfig());
    CHECK_THROWS_WITH(api.analyzeAudio(tone(1.0)), Catch::Contains("no analysis service"));
    api.addService(std::make_shared<test::FakeAnalysisService>());
    CHECK_THROWS_AS(api.analyzeAudio(AudioBuffer{}), FieldError);
    auto nan = tone(0.1);
    nan.samples[5] = std::nanf("");
    CHECK_THROWS_WITH(api.analyzeAudio(nan), Catch::Contains("NaN"));
    auto weirdRate = tone(0.1);
    weirdRate.sampleRate = 5;
    CHECK_THROWS_WITH(api.analyzeAudio(weirdRate), Catch::Contains("sample rate"));
}

TEST_CASE("AudioApi cancels a running generation and reports failures", "[api]") {
    AudioApi api(quietConfig());
    auto generator = std::make_shared<test::FakeGenerationService>(std::chrono::milliseconds(20));
    api.addService(generator);
    GenerateRequest req;
    req.prompt = "long";
    req.steps = 200;
    auto h = api.generateAudio(req);
    while (h.state() == TaskState::Queued) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    CHECK(api.cancel(h.id()));
    CHECK(h.wait() == TaskState::Cancelled);

    generator->failWith = "the fake generator was asked to fail";
    req.prompt = "fail";
    req.steps = 1;
    auto f = api.generateAudio(req);
    CHECK(f.wait() == TaskState::Failed);
    CHECK_THAT(f.error(), Catch::Contains("asked to fail"));
}

TEST_CASE("AudioApi reports model loading as a stage and can swap a service", "[api]") {
    AudioApi api(quietConfig());
    CHECK(api.serviceFor(TaskType::Analysis) == nullptr);
    auto first = std::make_shared<test::FakeAnalysisService>();
    api.addService(first);
    CHECK(api.serviceFor(TaskType::Analysis) == first);

    std::mutex stagesMutex;
    std::vector<std::string> stages;
    TaskCallbacks cb;
    cb.onProgress = [&](TaskId, const ProgressUpdate& u) {
        std::lock_guard<std::mutex> lock(stagesMutex);
        stages.push_back(u.stage);
    };
    auto h = api.analyzeAudio(tone(0.5), cb, TaskPriority::High);
    REQUIRE(h.wait() == TaskState::Succeeded);
    CHECK(h.status().priority == TaskPriority::High);
    CHECK(h.result().get().metrics.contains("model_load_seconds"));
    {
        std::lock_guard<std::mutex> lock(stagesMutex);
        REQUIRE_FALSE(stages.empty());
        CHECK(stages.front() == "loading model");
    }
    // Already loaded: no loading stage, no load time.
    auto again = api.analyzeAudio(tone(0.5));
    REQUIRE(again.wait() == TaskState::Succeeded);
    CHECK_FALSE(again.result().get().metrics.contains("model_load_seconds"));

    CHECK(api.removeService("wav2vec2") == first);
    CHECK(api.removeService("wav2vec2") == nullptr);
    CHECK_THROWS_WITH(api.analyzeAudio(tone(0.5)), Catch::Contains("no analysis service"));
    auto second = std::make_shared<test::FakeAnalysisService>();
    api.addService(second);
    CHECK(api.analyzeAudio(tone(0.5)).wait() == TaskState::Succeeded);
}

TEST_CASE("AudioApi analyses a file by path and names a file it cannot read", "[api]") {
    AudioApi api(quietConfig());
    api.addService(std::make_shared<Wav2vec2AnalysisService>());  // DSP-only: no model folder
    CHECK_THROWS_WITH(api.analyzeFile("/nonexistent/clip.wav"), Catch::Contains("/nonexistent/clip.wav"));

    const std::string path = (std::filesystem::temp_directory_path() / "grym_api_analyze_file.wav").string();
    saveAudioFile(path, tone(2.0));
    AudioApiConfig strict = quietConfig();
    strict.limits.maxAnalyzeSeconds = 1.0;
    AudioApi limited(strict);
    limited.addService(std::make_shared<test::FakeAnalysisService>());
    CHECK_THROWS_AS(limited.analyzeFile(path), FieldError);

    // The task carries the path, not the samples: the service decodes the file itself.
    auto h = api.analyzeFile(path);
    REQUIRE(h.wait() == TaskState::Succeeded);
    CHECK_FALSE(h.result().get().metrics.empty());
    // 32000 samples at the analysis rate (16 kHz, no resampling).
    CHECK(h.result().get().data["features"]["duration_s"].get<double>() == Approx(2.0));
    CHECK(api.task(h.id())->request["duration"].get<double>() == Approx(2.0));
    CHECK(api.task(h.id())->request["path"] == path);
    std::filesystem::remove(path);
}
