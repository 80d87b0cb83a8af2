#include "analysis/dsp_features.h"
#include "analysis/dsp_rhythm.h"
#include "common/error.h"
#include "dsp_signals.h"

#include <catch2/catch.hpp>

using namespace grym::dsp;

namespace {

// The tempo is the autocorrelation's peak on the grid of whole onset frames, refined between
// them: within half a frame of the beat period, which is 60 frameRate / bpm frames long.
double tempoResolution(double bpm, double frameRate) { return 0.5 / (60.0 * frameRate / bpm); }

}  // namespace

TEST_CASE("a 120 BPM click track measures 120 BPM within 2 %", "[dsp][tempo]") {
    for (int rate : {16000, 22050, 44100}) {
        INFO(rate << " Hz");
        const auto clicks = grym::test::clickTrack(120, 10.0, rate);
        const auto spectra = analyseSpectra(clicks, rate);
        const auto tempo = estimateTempo(spectra.onsetStrength, spectra.frameRate);
        CHECK(tempo.bpm == Approx(120).epsilon(tempoResolution(120, spectra.frameRate)));
        // A pulse train whose period falls between frames splits its beat pairs between the two
        // nearest lags, so at least half of them align at the chosen one: confidence of at least
        // 0.5 (n - lag) / n, less the share of the mean removed, about 0.45 here; the threshold
        // 0.3 separates that from an envelope without a beat (near 0).
        CHECK(tempo.confidence > 0.3);
    }
}

TEST_CASE("other tempi are found too, without halving or doubling", "[dsp][tempo]") {
    const int rate = 16000;
    for (double bpm : {72.0, 95.0, 150.0, 176.0}) {
        INFO(bpm << " BPM");
        const auto spectra = analyseSpectra(grym::test::clickTrack(bpm, 12.0, rate), rate);
        CHECK(estimateTempo(spectra.onsetStrength, spectra.frameRate).bpm == Approx(bpm).epsilon(tempoResolution(bpm, spectra.frameRate)));
    }
}

TEST_CASE("onsets land on the clicks", "[dsp][onsets]") {
    const int rate = 16000;
    const auto clicks = grym::test::clickTrack(100, 6.0, rate, 0.25);  // 0.25, 0.85, 1.45, ...
    const auto spectra = analyseSpectra(clicks, rate);
    const auto onsets = pickOnsets(spectra.onsetStrength, spectra.frameRate);
    REQUIRE(onsets.size() == 10);
    // The log-mel spectrum rises in the frames whose window first takes in a click: a click is
    // found within half a frame length of its time.
    const double halfFrameSeconds = 0.5 * spectra.frameLength / rate;
    for (size_t i = 0; i < onsets.size(); ++i) CHECK(onsets[i] == Approx(0.25 + 0.6 * i).margin(halfFrameSeconds));
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
