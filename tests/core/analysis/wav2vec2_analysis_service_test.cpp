#include "analysis/wav2vec2_analysis_service.h"
#include "common/error.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>

namespace {

const std::string kBaseCase = std::string(GRYM_TEST_DATA_DIR) + "/golden/wav2vec2_base";

// Stereo tone at a rate the model does not use, so the service must mix down and resample.
grym::AudioBuffer stereoTone(double seconds, double hz, int rate = 44100) {
    grym::AudioBuffer b;
    b.sampleRate = rate;
    b.channels = 2;
    const auto frames = static_cast<size_t>(seconds * rate);
    for (size_t i = 0; i < frames; ++i) {
        const float v = 0.4f * static_cast<float>(std::sin(2 * M_PI * hz * i / rate));
        b.samples.push_back(v);
        b.samples.push_back(v);
    }
    return b;
}

}  // namespace

TEST_CASE("without a model the service still gives DSP features and says the model part is missing", "[analysis]") {
    grym::Wav2vec2AnalysisService service;
    CHECK(service.id() == "wav2vec2");
    service.load();
    CHECK(service.isReady());
    grym::TaskInput input;
    input.audio = stereoTone(2.0, 440.0);
    std::vector<std::string> stages;
    grym::CancellationToken token;
    const auto r = service.run(input, [&](const grym::ProgressUpdate& u) { stages.push_back(u.stage); }, token);
    const auto& f = r.data["features"];
    REQUIRE(f["pitch_hz"].is_number());
    CHECK(f["pitch_hz"].get<double>() == Approx(440.0).epsilon(0.01));
    CHECK(f["duration_s"].get<double>() == Approx(2.0).epsilon(0.01));
    CHECK(f["wav2vec2"].is_null());
    CHECK_FALSE(r.data["model"]["available"].get<bool>());
    CHECK_THAT(r.data["model"]["missing"].get<std::string>(), Catch::Contains("model"));
    CHECK(r.data["patterns"]["segments"]["source"] == "dsp log-mel");
    for (const char* key : {"load_seconds", "analysis_seconds", "real_time_factor", "peak_memory_bytes"}) CHECK(r.metrics.contains(key));
    CHECK(stages.front() == "resampling");
    CHECK(stages.back() == "done");
}

TEST_CASE("with a model the service adds embedding statistics, a transcript and embedding segments", "[analysis]") {
    grym::Wav2vec2ServiceOptions options;
    options.modelDir = kBaseCase;
    options.analysis.windowSeconds = 1.0;
    grym::Wav2vec2AnalysisService service(options);
    service.load();
    CHECK(service.info().loadSeconds > 0);
    CHECK(service.estimatedMemoryBytes() > 0);
    grym::TaskInput input;
    input.audio = stereoTone(2.5, 300.0, 22050);
    grym::CancellationToken token;
    int windows = 0;
    const auto r = service.run(input, [&](const grym::ProgressUpdate& u) { if (u.stage == "wav2vec2") windows = u.totalSteps; }, token);
    CHECK(windows == 2);
    const auto& w = r.data["features"]["wav2vec2"];
    REQUIRE(w.is_object());
    CHECK(w["layers"].size() == 3);
    CHECK(r.data["features"].contains("transcript"));
    CHECK(r.data["patterns"]["segments"]["source"] == "wav2vec2 embeddings");
    CHECK(r.data["model"]["available"].get<bool>());
}

TEST_CASE("the service refuses a task without audio and honours cancellation", "[analysis]") {
    grym::Wav2vec2AnalysisService service;
    service.load();
    grym::CancellationToken token;
    CHECK_THROWS_AS(service.run(grym::TaskInput{}, {}, token), grym::TaskError);
    grym::TaskInput input;
    input.audio = stereoTone(1.0, 440.0);
    token.cancel();
    CHECK_THROWS_AS(service.run(input, {}, token), grym::TaskCancelled);
}

TEST_CASE("a service pointed at a broken model folder fails to load with the cause", "[analysis]") {
    grym::Wav2vec2ServiceOptions options;
    options.modelDir = std::string(GRYM_TEST_DATA_DIR) + "/wav2vec2_full_config";  // config only, no weights
    grym::Wav2vec2AnalysisService service(options);
    CHECK_THROWS_WITH(service.load(), Catch::Contains("model.safetensors"));
    CHECK(service.info().status == grym::ServiceStatus::Failed);
    CHECK_THAT(service.info().statusMessage, Catch::Contains("model.safetensors"));
}
