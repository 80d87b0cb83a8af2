#include "analysis/dsp_pitch.h"
#include "common/error.h"
#include "core/measurement_bounds.h"
#include "dsp_signals.h"

#include <catch2/catch.hpp>

using namespace grym::dsp;
using grym::test::kPitchTolerance;

TEST_CASE("YIN finds a 440 Hz tone within 1 %", "[dsp][pitch]") {
    for (int rate : {16000, 22050, 44100}) {
        INFO(rate << " Hz");
        const auto track = estimatePitch(grym::test::sine(440, 1.0, rate, 0.5), rate);
        CHECK(track.medianFrequency == Approx(440).epsilon(kPitchTolerance));
        CHECK(track.meanFrequency == Approx(440).epsilon(kPitchTolerance));
        // Every frame lies inside the tone.
        CHECK(track.voicedRatio == 1.0);
    }
}

TEST_CASE("YIN follows a harmonic-rich tone without octave errors", "[dsp][pitch]") {
    const int rate = 16000;
    std::vector<float> saw(rate);
    for (int i = 0; i < rate; ++i) saw[i] = static_cast<float>(0.5 * (std::fmod(i * 110.0 / rate, 1.0) * 2 - 1));
    CHECK(estimatePitch(saw, rate).medianFrequency == Approx(110).epsilon(kPitchTolerance));
    // A tone made of harmonics 2-5 of 150 Hz (no energy at the fundamental) still has period 1/150 s.
    std::vector<float> missingFundamental(rate, 0.0f);
    for (int h = 2; h <= 5; ++h) {
        const auto partial = grym::test::sine(150.0 * h, 1.0, rate, 0.15);
        for (int i = 0; i < rate; ++i) missingFundamental[i] += partial[i];
    }
    CHECK(estimatePitch(missingFundamental, rate).medianFrequency == Approx(150).epsilon(kPitchTolerance));
}

TEST_CASE("noise and silence are unvoiced", "[dsp][pitch]") {
    const int rate = 16000;
    // For white noise every lag's difference d(tau) is a sum of W = rate / minFrequency
    // squares (x_j - x_j+tau)^2 spreading sqrt(5.6) / 2 / sqrt(W) = 6.6 % about its mean (uniform
    // samples), and the normalised d' stays near 1: a dip under the 0.15 threshold is 13
    // standard deviations away, beyond kChanceSigmas, so no frame is voiced.
    CHECK(estimatePitch(grym::test::whiteNoise(1.0, rate), rate).voicedRatio == 0.0);
    const auto silent = estimatePitch(std::vector<float>(rate, 0.0f), rate);
    CHECK(silent.voicedRatio == 0.0);
    CHECK(silent.medianFrequency == 0.0);
    // Half tone, half silence: the voiced ratio says so.
    auto half = grym::test::sine(300, 1.0, rate, 0.5);
    grym::test::append(half, std::vector<float>(rate, 0.0f));
    // Frames wholly in the tone are voiced, those wholly in the silence are not; only the
    // span / hop + 1 frames that reach across the edge may go either way.
    const YinPitchDetector detector(rate);
    const auto track = estimatePitch(half, rate);
    const double edgeFrames = static_cast<double>(detector.span()) / detector.hop() + 1;
    CHECK(track.voicedRatio == Approx(0.5).margin(edgeFrames / track.frequencies.size()));
}

TEST_CASE("pitch options that cannot work are refused", "[dsp][pitch]") {
    PitchOptions bad;
    bad.maxFrequency = 9000;
    CHECK_THROWS_AS(estimatePitch(std::vector<float>(16000, 0.0f), 16000, bad), grym::AudioError);
    CHECK(estimatePitch(std::vector<float>(10, 0.1f), 16000).frequencies.empty());
}
