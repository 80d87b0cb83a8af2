#include "analysis/dsp_pitch.h"
#include "common/error.h"
#include "core/measurement_bounds.h"
#include "dsp_signals.h"

#include <catch2/catch.hpp>

using namespace grym::dsp;
using grym::test::kPitchTolerance;

// The pitch itself is aubio's YIN-FFT (checked against aubiopitch on real recordings in
// analysis_peers_test); these tests check the framing and the summary we build on it.

namespace {

// Frames whose window reaches before the signal's start or across an edge: buffer / hop + 1.
double edgeFrames(const PitchOptions& o = {}) { return static_cast<double>(o.bufferSize) / o.hopSize + 1; }

}  // namespace

TEST_CASE("aubio finds a 440 Hz tone within 1 % at the signal's own rate", "[dsp][pitch]") {
    for (int rate : {16000, 22050, 44100, 48000, 96000}) {
        INFO(rate << " Hz");
        const auto track = estimatePitch(grym::test::sine(440, 1.0, rate, 0.5), rate);
        CHECK(track.medianFrequency == Approx(440).epsilon(kPitchTolerance));
        CHECK(track.hopSeconds == Approx(256.0 / rate));
        // One frame per hop, the last partial hop zero-padded.
        CHECK(track.frequencies.size() == (static_cast<size_t>(rate) + 255) / 256);
        CHECK(track.voicedRatio >= 1.0 - edgeFrames() / track.frequencies.size());
    }
}

TEST_CASE("a harmonic-rich tone is found without octave errors", "[dsp][pitch]") {
    const int rate = 44100;
    std::vector<float> saw(rate);
    for (int i = 0; i < rate; ++i) saw[i] = static_cast<float>(0.5 * (std::fmod(i * 110.0 / rate, 1.0) * 2 - 1));
    CHECK(estimatePitch(saw, rate).medianFrequency == Approx(110).epsilon(kPitchTolerance));
}

TEST_CASE("silence is unvoiced and a tone that stops is voiced for its share", "[dsp][pitch]") {
    const int rate = 16000;
    const auto silent = estimatePitch(std::vector<float>(rate, 0.0f), rate);
    CHECK(silent.voicedRatio == 0.0);
    CHECK(silent.medianFrequency == 0.0);
    auto half = grym::test::sine(300, 1.0, rate, 0.5);
    grym::test::append(half, std::vector<float>(rate, 0.0f));
    const auto track = estimatePitch(half, rate);
    CHECK(track.voicedRatio == Approx(0.5).margin(2 * edgeFrames() / track.frequencies.size()));
    CHECK(track.medianFrequency == Approx(300).epsilon(kPitchTolerance));
}

TEST_CASE("the pitch tracker gives the same frames whatever the block sizes", "[dsp][pitch]") {
    const int rate = 22050;
    const auto tone = grym::test::sine(523.25, 1.5, rate, 0.4);
    const PitchTrack whole = estimatePitch(tone, rate);
    PitchTracker tracker(rate);
    for (size_t at = 0, n = 1; at < tone.size(); at += n, n = n * 5 % 1009 + 1) tracker.push(tone.data() + at, std::min(n, tone.size() - at));
    CHECK(tracker.heldSamples() < 256);
    const PitchTrack parts = tracker.finish();
    CHECK(parts.frequencies == whole.frequencies);
    CHECK(parts.confidence == whole.confidence);
    CHECK_THROWS_AS(tracker.finish(), grym::AudioError);
}

TEST_CASE("pitch options that cannot work are refused", "[dsp][pitch]") {
    PitchOptions bad;
    bad.hopSize = 4096;  // longer than the buffer
    CHECK_THROWS_AS(estimatePitch(std::vector<float>(16000, 0.0f), 16000, bad), grym::AudioError);
    PitchOptions unknown;
    unknown.method = "no-such-method";
    CHECK_THROWS_WITH(estimatePitch(std::vector<float>(16000, 0.0f), 16000, unknown), Catch::Contains("no-such-method"));
    CHECK_THROWS_AS(estimatePitch(std::vector<float>(100, 0.0f), 0), grym::AudioError);
    CHECK(estimatePitch(std::vector<float>(10, 0.1f), 16000).frequencies.size() == 1);
}
