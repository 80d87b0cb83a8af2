#include "analysis/dsp_loudness.h"
#include "common/error.h"
#include "core/measurement_bounds.h"
#include "dsp_signals.h"

#include <catch2/catch.hpp>

using namespace grym::dsp;
using grym::test::kLoudnessToleranceLu;
using grym::test::sine;

namespace {

// BS.1770 calibrates K-weighting and its -0.691 offset so that a 1 kHz sine of amplitude A
// measures its mean square A^2 / 2 in dB.
double sineLufs(double amplitude) { return 10.0 * std::log10(amplitude * amplitude / 2.0); }

// The blocks (400 ms every 100 ms) over a tone of `seconds` that stops: (seconds - 0.4) / 0.1 + 1
// hold only tone; the next three hold 3/4, 1/2 and 1/4 of it and pass the relative gate
// (-1.2, -3 and -6 LU), whatever follows more than 10 LU down does not. Their mean power, in
// LU relative to the tone's.
double partialBlockShiftLu(double seconds) {
    const double whole = std::round((seconds - 0.4) / 0.1) + 1;
    return 10.0 * std::log10((whole + 0.75 + 0.5 + 0.25) / (whole + 3));
}

}  // namespace

TEST_CASE("K-weighting at 48 kHz matches the BS.1770 coefficient table", "[dsp][loudness]") {
    const auto k = kWeightingFilters(48000);
    // The table's 14 decimals round by half a unit; computing each coefficient from the analog
    // prototype takes about 16 roundings (tan, pow, products, sums, one division) of terms
    // below 4 in magnitude.
    const double tolerance = 0.5e-14 + 4.0 * grym::test::summationBound(16);  // (epsilon(0): no relative slack)
    CHECK(k[0].b[0] == Approx(1.53512485958697).epsilon(0).margin(tolerance));
    CHECK(k[0].b[1] == Approx(-2.69169618940638).epsilon(0).margin(tolerance));
    CHECK(k[0].b[2] == Approx(1.19839281085285).epsilon(0).margin(tolerance));
    CHECK(k[0].a[0] == Approx(-1.69065929318241).epsilon(0).margin(tolerance));
    CHECK(k[0].a[1] == Approx(0.73248077421585).epsilon(0).margin(tolerance));
    CHECK(k[1].b[0] == 1.0);
    CHECK(k[1].b[1] == -2.0);
    CHECK(k[1].b[2] == 1.0);
    CHECK(k[1].a[0] == Approx(-1.99004745483398).epsilon(0).margin(tolerance));
    CHECK(k[1].a[1] == Approx(0.99007225036621).epsilon(0).margin(tolerance));
}

TEST_CASE("a full-scale 1 kHz sine measures -3.01 LUFS at common rates", "[dsp][loudness]") {
    for (int rate : {48000, 44100, 16000}) {
        INFO(rate << " Hz");
        const auto result = integratedLoudness(sine(1000, 5.0, rate), rate);
        CHECK(result.integratedLufs == Approx(sineLufs(1.0)).margin(kLoudnessToleranceLu));
        CHECK(result.blocks == 47);  // (5 s - 0.4 s) / 0.1 s + 1
        CHECK(result.gatedBlocks == result.blocks);
    }
    // 20 dB down is 20 LU down (EBU's -23 LUFS reference level).
    CHECK(integratedLoudness(sine(1000, 5.0, 48000, 0.1), 48000).integratedLufs == Approx(sineLufs(0.1)).margin(kLoudnessToleranceLu));
}

TEST_CASE("the gates leave out silence and quiet passages", "[dsp][loudness]") {
    const int rate = 48000;
    auto loudThenQuiet = sine(1000, 10.0, rate, 1.0);
    grym::test::append(loudThenQuiet, sine(1000, 10.0, rate, 0.01));  // -40 dB: under the relative gate
    // (the quiet tone adds 1e-4 of the loud one's power to the three partial blocks: 0.0003 LU)
    CHECK(integratedLoudness(loudThenQuiet, rate).integratedLufs ==
          Approx(sineLufs(1.0) + partialBlockShiftLu(10.0)).margin(kLoudnessToleranceLu));

    auto toneThenSilence = sine(1000, 5.0, rate, 1.0);
    grym::test::append(toneThenSilence, std::vector<float>(10 * rate, 0.0f));  // under the absolute gate
    CHECK(integratedLoudness(toneThenSilence, rate).integratedLufs ==
          Approx(sineLufs(1.0) + partialBlockShiftLu(5.0)).margin(kLoudnessToleranceLu));

    CHECK(std::isinf(integratedLoudness(std::vector<float>(rate, 0.0f), rate).integratedLufs));
    const auto tooShort = integratedLoudness(sine(1000, 0.3, rate), rate);
    CHECK(tooShort.blocks == 0);
    CHECK(std::isinf(tooShort.integratedLufs));
    CHECK_THROWS_AS(integratedLoudness(sine(1000, 1, rate), 0), grym::AudioError);
}
