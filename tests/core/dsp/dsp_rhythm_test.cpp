#include "analysis/dsp_features.h"
#include "analysis/dsp_rhythm.h"
#include "common/error.h"
#include "dsp_signals.h"

#include <catch2/catch.hpp>

using namespace grym::dsp;

TEST_CASE("a 120 BPM click track measures 120 BPM within 2 %", "[dsp][tempo]") {
    for (int rate : {16000, 22050, 44100}) {
        INFO(rate << " Hz");
        const auto clicks = grym::test::clickTrack(120, 10.0, rate);
        const auto spectra = analyseSpectra(clicks, rate);
        const auto tempo = estimateTempo(spectra.onsetStrength, spectra.frameRate);
        CHECK(tempo.bpm == Approx(120).epsilon(0.02));
        CHECK(tempo.confidence > 0.3);
    }
}

TEST_CASE("other tempi are found too, without halving or doubling", "[dsp][tempo]") {
    const int rate = 16000;
    for (double bpm : {72.0, 95.0, 150.0, 176.0}) {
        INFO(bpm << " BPM");
        const auto spectra = analyseSpectra(grym::test::clickTrack(bpm, 12.0, rate), rate);
        CHECK(estimateTempo(spectra.onsetStrength, spectra.frameRate).bpm == Approx(bpm).epsilon(0.02));
    }
}

TEST_CASE("onsets land on the clicks", "[dsp][onsets]") {
    const int rate = 16000;
    const auto clicks = grym::test::clickTrack(100, 6.0, rate, 0.25);  // 0.25, 0.85, 1.45, ...
    const auto spectra = analyseSpectra(clicks, rate);
    const auto onsets = pickOnsets(spectra.onsetStrength, spectra.frameRate);
    REQUIRE(onsets.size() == 10);
    for (size_t i = 0; i < onsets.size(); ++i) CHECK(onsets[i] == Approx(0.25 + 0.6 * i).margin(0.03));
}

TEST_CASE("a steady tone has no tempo and no onsets after its start", "[dsp][tempo]") {
    const int rate = 16000;
    auto tone = grym::test::sine(440, 5.0, rate, 0.5);
    const auto spectra = analyseSpectra(tone, rate);
    CHECK(pickOnsets(spectra.onsetStrength, spectra.frameRate).size() <= 1);
    CHECK(estimateTempo(std::vector<float>(500, 0.0f), 62.5).bpm == 0.0);
    CHECK(estimateTempo({}, 62.5).bpm == 0.0);
    CHECK_THROWS_AS(estimateTempo({1, 2, 3}, 0.0), grym::AudioError);
    CHECK_THROWS_AS(pickOnsets({1, 2, 3}, -1.0), grym::AudioError);
}
