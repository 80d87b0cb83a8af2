#include "analysis/dsp_loudness.h"
#include "common/error.h"
#include "dsp_signals.h"

#include <catch2/catch.hpp>

using namespace grym::dsp;
using grym::test::sine;

TEST_CASE("K-weighting at 48 kHz matches the BS.1770 coefficient table", "[dsp][loudness]") {
    const auto k = kWeightingFilters(48000);
    CHECK(k[0].b[0] == Approx(1.53512485958697).margin(1e-6));
    CHECK(k[0].b[1] == Approx(-2.69169618940638).margin(1e-6));
    CHECK(k[0].b[2] == Approx(1.19839281085285).margin(1e-6));
    CHECK(k[0].a[0] == Approx(-1.69065929318241).margin(1e-6));
    CHECK(k[0].a[1] == Approx(0.73248077421585).margin(1e-6));
    CHECK(k[1].b[0] == 1.0);
    CHECK(k[1].b[1] == -2.0);
    CHECK(k[1].b[2] == 1.0);
    CHECK(k[1].a[0] == Approx(-1.99004745483398).margin(1e-6));
    CHECK(k[1].a[1] == Approx(0.99007225036621).margin(1e-6));
}

TEST_CASE("a full-scale 1 kHz sine measures -3.01 LUFS at common rates", "[dsp][loudness]") {
    for (int rate : {48000, 44100, 16000}) {
        INFO(rate << " Hz");
        const auto result = integratedLoudness(sine(1000, 5.0, rate), rate);
        CHECK(result.integratedLufs == Approx(-3.01).margin(0.1));
        CHECK(result.blocks == 47);  // (5 s - 0.4 s) / 0.1 s + 1
        CHECK(result.gatedBlocks == result.blocks);
    }
    // 20 dB down is 20 LU down (EBU's -23 LUFS reference level).
    CHECK(integratedLoudness(sine(1000, 5.0, 48000, 0.1), 48000).integratedLufs == Approx(-23.01).margin(0.1));
}

TEST_CASE("the gates leave out silence and quiet passages", "[dsp][loudness]") {
    const int rate = 48000;
    auto loudThenQuiet = sine(1000, 10.0, rate, 1.0);
    grym::test::append(loudThenQuiet, sine(1000, 10.0, rate, 0.01));  // -40 dB: under the relative gate
    CHECK(integratedLoudness(loudThenQuiet, rate).integratedLufs == Approx(-3.01).margin(0.15));

    auto toneThenSilence = sine(1000, 5.0, rate, 1.0);
    grym::test::append(toneThenSilence, std::vector<float>(10 * rate, 0.0f));  // under the absolute gate
    CHECK(integratedLoudness(toneThenSilence, rate).integratedLufs == Approx(-3.01).margin(0.15));

    CHECK(std::isinf(integratedLoudness(std::vector<float>(rate, 0.0f), rate).integratedLufs));
    const auto tooShort = integratedLoudness(sine(1000, 0.3, rate), rate);
    CHECK(tooShort.blocks == 0);
    CHECK(std::isinf(tooShort.integratedLufs));
    CHECK_THROWS_AS(integratedLoudness(sine(1000, 1, rate), 0), grym::AudioError);
}
