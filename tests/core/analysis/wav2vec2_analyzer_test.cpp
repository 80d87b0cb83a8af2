#include "analysis/wav2vec2_analyzer.h"
#include "common/error.h"
#include "core/numeric_bounds.h"
#include "orchestration/model_service.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>

namespace {

const std::string kBaseCase = std::string(GRYM_TEST_DATA_DIR) + "/golden/wav2vec2_base";

std::vector<float> tone(double seconds, double hz, int rate = 16000) {
    std::vector<float> out(static_cast<size_t>(seconds * rate));
    for (size_t i = 0; i < out.size(); ++i) out[i] = 0.3f * static_cast<float>(std::sin(2 * M_PI * hz * i / rate));
    return out;
}

}  // namespace

TEST_CASE("windows cover the whole input and fold a short remainder into the previous window", "[analysis]") {
    using Plan = std::vector<std::pair<int64_t, int64_t>>;
    CHECK(grym::planWindows(100, 40, 10) == Plan{{0, 40}, {40, 80}, {80, 100}});
    CHECK(grym::planWindows(85, 40, 10) == Plan{{0, 40}, {40, 85}});
    CHECK(grym::planWindows(30, 40, 10) == Plan{{0, 30}});
    CHECK(grym::planWindows(0, 40, 10).empty());
}

TEST_CASE("the analyzer reports per-layer statistics, pooled embeddings and a transcript over several windows", "[analysis]") {
    const grym::Wav2vec2Analyzer analyzer(kBaseCase);
    REQUIRE(analyzer.hasTranscriptHead());
    grym::Wav2vec2AnalysisOptions options;
    options.windowSeconds = 1.0;
    options.poolSeconds = 0.1;
    std::vector<int> seen;
    const auto a = analyzer.analyze(tone(3.5, 220.0), options, [&](int w, int n) {
        seen.push_back(w);
        CHECK(n == 3);
        return true;
    });
    CHECK(seen == std::vector<int>{0, 1, 2});
    CHECK(a.windows == 3);
    CHECK(a.frameRate == Approx(50.0));  // 16000 / 320, exact
    CHECK(a.layers.size() == 3);
    for (const auto& l : a.layers) {
        CHECK(std::isfinite(l.mean));
        CHECK(l.std > 0);
        CHECK(l.meanFrameNorm > 0);
    }
    // three windows of 49 + 49 + 74 frames (the last holds 1.5 s), pooled by 5
    CHECK(a.frames == 49 + 49 + 74);
    CHECK(a.pooledFrames == (a.frames + 4) / 5);
    CHECK(a.pooledEmbeddings.size() == static_cast<size_t>(a.pooledFrames * a.hiddenSize));
    CHECK(a.hasTranscript);
    const auto j = grym::toJson(a);
    CHECK(j["layers"].size() == 3);
    CHECK(j.contains("transcript"));
    CHECK(analyzer.estimatedMemoryBytes() > static_cast<uint64_t>(analyzer.model().parameterBytes()));
}

TEST_CASE("the analyzer stops between windows when cancelled and refuses audio that is too short", "[analysis]") {
    const grym::Wav2vec2Analyzer analyzer(kBaseCase);
    grym::Wav2vec2AnalysisOptions options;
    options.windowSeconds = 1.0;
    int calls = 0;
    CHECK_THROWS_AS(analyzer.analyze(tone(3.0, 100.0), options, [&](int, int) { return ++calls < 2; }), grym::TaskCancelled);
    CHECK(calls == 2);
    CHECK_THROWS_WITH(analyzer.analyze(tone(0.01, 100.0)), Catch::Contains("receptive field"));
}

TEST_CASE("the analysis stream fed in small blocks equals the whole-input analysis and holds one window", "[analysis]") {
    const grym::Wav2vec2Analyzer analyzer(kBaseCase);
    grym::Wav2vec2AnalysisOptions options;
    options.windowSeconds = 1.0;
    const std::vector<float> input = tone(4.7, 180.0);
    const auto whole = analyzer.analyze(input, options);
    auto stream = analyzer.stream(options, {}, static_cast<int64_t>(input.size()));
    for (size_t at = 0; at < input.size(); at += 777) stream.push(input.data() + at, std::min<size_t>(777, input.size() - at));
    // a window (1 s) plus the minimum remainder (1 s) plus one block
    CHECK(stream.peakBufferedSamples() < 2 * 16000 + 777);
    const auto parts = stream.finish();
    CHECK(parts.windows == whole.windows);
    CHECK(parts.frames == whole.frames);
    CHECK(parts.transcript == whole.transcript);
    REQUIRE(parts.pooledEmbeddings.size() == whole.pooledEmbeddings.size());
    // The same windows through the same model: at most the rounding of two float32 evaluations
    // (numeric_bounds.h), relative to the largest embedding value; the statistics add a float64
    // sum over the values, far below that.
    std::vector<torch::Tensor> weights;
    for (const auto& [name, tensor] : analyzer.model().stateDict()) weights.push_back(tensor);
    const double bound = grym::test::roundingBound(torch::kFloat32, grym::test::networkSize(weights));
    double largest = 0;
    for (float v : whole.pooledEmbeddings) largest = std::max(largest, static_cast<double>(std::fabs(v)));
    for (size_t i = 0; i < parts.pooledEmbeddings.size(); ++i)
        REQUIRE(parts.pooledEmbeddings[i] == Approx(whole.pooledEmbeddings[i]).epsilon(0).margin(bound * largest));
    for (size_t l = 0; l < parts.layers.size(); ++l) CHECK(parts.layers[l].std == Approx(whole.layers[l].std).epsilon(bound));
    CHECK_THROWS_AS(stream.finish(), grym::ModelError);

    auto tooShort = analyzer.stream(options);
    const std::vector<float> blip = tone(0.01, 100.0);
    tooShort.push(blip.data(), blip.size());
    CHECK_THROWS_WITH(tooShort.finish(), Catch::Contains("receptive field"));
}

TEST_CASE("a model folder without its preprocessor config is refused by file name", "[analysis]") {
    CHECK_THROWS_WITH(grym::Wav2vec2Analyzer(std::string(GRYM_TEST_DATA_DIR) + "/wav2vec2_no_such_model"),
                      Catch::Contains("preprocessor_config.json"));
}
