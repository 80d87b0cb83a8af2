#include "analysis/dsp_features.h"
#include "analysis/dsp_segments.h"
#include "common/error.h"
#include "dsp_signals.h"

#include <catch2/catch.hpp>

#include <random>

using namespace grym::dsp;

namespace {

// `sections` blocks of `frames` rows, each block a noisy copy of its own random vector.
FeatureMatrix blocks(size_t sections, size_t frames, size_t dims, double noise) {
    std::mt19937 rng(9);
    std::normal_distribution<float> gauss;
    FeatureMatrix m(sections * frames, dims);
    for (size_t s = 0; s < sections; ++s) {
        std::vector<float> centre(dims);
        for (float& v : centre) v = gauss(rng);
        for (size_t f = 0; f < frames; ++f)
            for (size_t d = 0; d < dims; ++d) m.row(s * frames + f)[d] = centre[d] + static_cast<float>(noise) * gauss(rng);
    }
    return m;
}

}  // namespace

TEST_CASE("block changes in any feature matrix become boundaries", "[dsp][segments]") {
    // 50 rows per second (wav2vec2's frame rate), 768 dims, sections of 8 s.
    const double frameRate = 50.0;
    const auto matrix = blocks(4, 400, 768, 0.5);
    const auto result = segmentBySelfSimilarity(matrix, frameRate);
    REQUIRE(result.boundaries.size() == 3);
    // Novelty is measured per pooled step, so a cut is placed on a step's edge: within one step.
    const double step = 1.0 / result.noveltyRate;
    for (size_t i = 0; i < 3; ++i) CHECK(result.boundaries[i] == Approx(8.0 * (i + 1)).margin(step));
    // Pooled in steps of a whole number of rows nearest 0.25 s: within half a row of it.
    const SegmentationOptions options;
    CHECK(result.noveltyRate == Approx(1.0 / options.poolSeconds).epsilon(0.5 / (options.poolSeconds * frameRate)));
}

TEST_CASE("a homogeneous matrix has no boundaries", "[dsp][segments]") {
    const auto result = segmentBySelfSimilarity(blocks(1, 1000, 20, 1.0), 50.0);
    CHECK(result.boundaries.empty());
    CHECK(segmentBySelfSimilarity(FeatureMatrix(), 50.0).boundaries.empty());
}

TEST_CASE("malformed matrices and options are refused", "[dsp][segments]") {
    FeatureMatrix wrong(10, 4);
    wrong.values.pop_back();
    CHECK_THROWS_WITH(segmentBySelfSimilarity(wrong, 50.0), Catch::Contains("10 x 4"));
    CHECK_THROWS_AS(segmentBySelfSimilarity(FeatureMatrix(10, 4), 0.0), grym::AudioError);
}

TEST_CASE("sections of different sound are segmented from DSP features", "[dsp][segments]") {
    const int rate = 16000;
    std::vector<float> audio = grym::test::whiteNoise(6.0, rate, 0.3);
    grym::test::append(audio, grym::test::sine(440, 6.0, rate, 0.5));
    grym::test::append(audio, grym::test::clickTrack(120, 6.0, rate));
    const auto features = computeDspFeatures(audio, rate);
    REQUIRE(features.segments.boundaries.size() == 2);
    // Within a pooled step, as above, plus half a spectral frame: a log-mel frame centred near
    // the cut already hears the next section.
    const double resolution = 1.0 / features.segments.noveltyRate + 0.5 * SpectralFrameAnalyzer(rate).frameLength() / rate;
    CHECK(features.segments.boundaries[0] == Approx(6.0).margin(resolution));
    CHECK(features.segments.boundaries[1] == Approx(12.0).margin(resolution));
}
