#include "analysis/dsp_seams.h"
#include "common/error.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>
#include <vector>

using namespace grym;
using namespace grym::dsp;

namespace {

std::vector<float> sine(double hz, double phase, size_t samples, int rate = 16000) {
    std::vector<float> out(samples);
    for (size_t i = 0; i < samples; ++i) out[i] = static_cast<float>(0.5 * std::sin(phase + 2 * M_PI * hz * i / rate));
    return out;
}

}  // namespace

TEST_CASE("a continuous tone has no seam and a phase jump in it is a click", "[dsp][seams]") {
    auto smooth = sine(220.0, 0.0, 16000);
    const auto calm = measureSeam(smooth, 8000);
    CHECK(calm.sampleJumpRatio < 1.5);
    CHECK(calm.spectralFluxRatio < 2.0);

    // Half way through, the tone skips a quarter of a cycle: the waveform jumps.
    auto jumped = smooth;
    const auto later = sine(220.0, M_PI / 2, 8000);
    std::copy(later.begin(), later.end(), jumped.begin() + 8000);
    const auto click = measureSeam(jumped, 8000);
    CHECK(click.sampleJumpRatio > 10.0);
    CHECK(click.spectralFluxRatio > 2.0 * calm.spectralFluxRatio);
}

TEST_CASE("a change of sound at a joint shows as spectral flux against the clip's own", "[dsp][seams]") {
    std::mt19937 random(3);
    std::normal_distribution<float> noise(0.0f, 0.1f);
    std::vector<float> clip = sine(300.0, 0.0, 16000);
    for (size_t i = 8000; i < clip.size(); ++i) clip[i] = noise(random);  // a tone, then hiss
    CHECK(measureSeam(clip, 8000).spectralFluxRatio > 4.0);  // a steady tone stays under 2
}

TEST_CASE("a loop of whole cycles wraps without a seam, a cut cycle does not", "[dsp][seams]") {
    // 16000 samples of 200 Hz: exactly 200 cycles; of 210.25 Hz: the loop cuts a cycle at its peak.
    const auto whole = measureLoopPoint(sine(200.0, 0.0, 16000));
    const auto cut = measureLoopPoint(sine(210.25, 0.0, 16000));
    CHECK(whole.sampleJumpRatio < 1.5);
    CHECK(cut.sampleJumpRatio > 10.0);
    CHECK(cut.spectralFluxRatio > whole.spectralFluxRatio);
}

TEST_CASE("a seam too near the clip's ends is refused by name", "[dsp][seams]") {
    CHECK_THROWS_AS(measureSeam(sine(100.0, 0.0, 3000), 100), AudioError);
    CHECK_THROWS_AS(measureLoopPoint(std::vector<float>(100, 0.0f)), AudioError);
}
