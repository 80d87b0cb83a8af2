#include "analysis/dsp_pitch.h"
#include "common/error.h"
#include "dsp_signals.h"

#include <catch2/catch.hpp>

using namespace grym::dsp;

TEST_CASE("YIN finds a 440 Hz tone within 1 %", "[dsp][pitch]") {
    for (int rate : {16000, 22050, 44100}) {
        INFO(rate << " Hz");
        const auto track = estimatePitch(grym::test::sine(440, 1.0, rate, 0.5), rate);
        CHECK(track.medianFrequency == Approx(440).epsilon(0.01));
        CHECK(track.meanFrequency == Approx(440).epsilon(0.01));
        CHECK(track.voicedRatio > 0.95);
    }
}

TEST_CASE("YIN follows a harmonic-rich tone without octave errors", "[dsp][pitch]") {
    const int rate = 16000;
    std::vector<float> saw(rate);
    for (int i = 0; i < rate; ++i) saw[i] = static_cast<float>(0.5 * (std::fmod(i * 110.0 / rate, 1.0) * 2 - 1));
    CHECK(estimatePitch(saw, rate).medianFrequency == Approx(110).epsilon(0.01));
    // A tone made of harmonics 2-5 of 150 Hz (no energy at the fundamental) still has period 1/150 s.
    std::vector<float> missingFundamental(rate, 0.0f);
    for (int h = 2; h <= 5; ++h) {
        const auto partial = grym::test::sine(150.0 * h, 1.0, rate, 0.15);
        for (int i = 0; i < rate; ++i) missingFundamental[i] += partial[i];
    }
    CHECK(estimatePitch(missingFundamental, rate).medianFrequency == Approx(150).epsilon(0.01));
}

TEST_CASE("noise and silence are unvoiced", "[dsp][pitch]") {
    const int rate = 16000;
    CHECK(estimatePitch(grym::test::whiteNoise(1.0, rate), rate).voicedRatio < 0.1);
    const auto silent = estimatePitch(std::vector<float>(rate, 0.0f), rate);
    CHECK(silent.voicedRatio == 0.0);
    CHECK(silent.medianFrequency == 0.0);
    // Half tone, half silence: the voiced ratio says so.
    auto half = grym::test::sine(300, 1.0, rate, 0.5);
    grym::test::append(half, std::vector<float>(rate, 0.0f));
    CHECK(estimatePitch(half, rate).voicedRatio == Approx(0.5).margin(0.06));
}

TEST_CASE("pitch options that cannot work are refused", "[dsp][pitch]") {
    PitchOptions bad;
    bad.maxFrequency = 9000;
    CHECK_THROWS_AS(estimatePitch(std::vector<float>(16000, 0.0f), 16000, bad), grym::AudioError);
    CHECK(estimatePitch(std::vector<float>(10, 0.1f), 16000).frequencies.empty());
}
