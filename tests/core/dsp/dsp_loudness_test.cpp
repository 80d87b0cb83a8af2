#include "analysis/dsp_loudness.h"
#include "common/error.h"
#include "core/measurement_bounds.h"
#include "dsp_signals.h"

#include <catch2/catch.hpp>

using namespace grym::dsp;
using grym::test::kLoudnessToleranceLu;
using grym::test::sine;

// The K-weighting filters and gates are libebur128's (its own test suite checks them against
// EBU Tech 3341's signals); these tests check that we drive it right: rates, channels, blocks.

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

std::vector<float> interleave(const std::vector<float>& left, const std::vector<float>& right) {
    std::vector<float> out;
    for (size_t i = 0; i < left.size(); ++i) {
        out.push_back(left[i]);
        out.push_back(right[i]);
    }
    return out;
}

}  // namespace

TEST_CASE("a full-scale 1 kHz sine measures -3.01 LUFS and 0 dBTP at common rates", "[dsp][loudness]") {
    for (int rate : {48000, 44100, 22050, 16000}) {
        INFO(rate << " Hz");
        const auto result = measureLoudness(sine(1000, 5.0, rate), rate);
        CHECK(result.integratedLufs == Approx(sineLufs(1.0)).margin(kLoudnessToleranceLu));
        CHECK(result.shortTermMaxLufs == Approx(sineLufs(1.0)).margin(kLoudnessToleranceLu));
        // A steady tone has no loudness range.
        CHECK(result.loudnessRangeLu == Approx(0.0).margin(kLoudnessToleranceLu));
        // The samples' peak is within (pi f / rate)^2 / 2 of the crest; oversampled, the true peak is the crest.
        CHECK(result.truePeakDbtp == Approx(0.0).margin(0.2));
    }
    // 20 dB down is 20 LU down (EBU's -23 LUFS reference level).
    CHECK(measureLoudness(sine(1000, 5.0, 48000, 0.1), 48000).integratedLufs == Approx(sineLufs(0.1)).margin(kLoudnessToleranceLu));
}

TEST_CASE("loudness sums the channels' power: the same tone on two channels is 3 LU louder, out of phase too", "[dsp][loudness]") {
    const int rate = 48000;
    const auto tone = sine(1000, 5.0, rate, 0.5);
    std::vector<float> inverted(tone);
    for (float& v : inverted) v = -v;
    const double mono = measureLoudness(tone, rate).integratedLufs;
    CHECK(measureLoudness(interleave(tone, tone), rate, 2).integratedLufs == Approx(mono + 10 * std::log10(2.0)).margin(kLoudnessToleranceLu));
    CHECK(measureLoudness(interleave(tone, inverted), rate, 2).integratedLufs == Approx(mono + 10 * std::log10(2.0)).margin(kLoudnessToleranceLu));
    // Silence on one channel adds nothing.
    CHECK(measureLoudness(interleave(tone, std::vector<float>(tone.size(), 0.0f)), rate, 2).integratedLufs ==
          Approx(mono).margin(kLoudnessToleranceLu));
}

TEST_CASE("the gates leave out silence and quiet passages", "[dsp][loudness]") {
    const int rate = 48000;
    auto loudThenQuiet = sine(1000, 10.0, rate, 1.0);
    grym::test::append(loudThenQuiet, sine(1000, 10.0, rate, 0.01));  // -40 dB: under the relative gate
    CHECK(measureLoudness(loudThenQuiet, rate).integratedLufs == Approx(sineLufs(1.0) + partialBlockShiftLu(10.0)).margin(kLoudnessToleranceLu));

    auto toneThenSilence = sine(1000, 5.0, rate, 1.0);
    grym::test::append(toneThenSilence, std::vector<float>(10 * rate, 0.0f));  // under the absolute gate
    CHECK(measureLoudness(toneThenSilence, rate).integratedLufs == Approx(sineLufs(1.0) + partialBlockShiftLu(5.0)).margin(kLoudnessToleranceLu));

    CHECK(std::isinf(measureLoudness(std::vector<float>(rate, 0.0f), rate).integratedLufs));
    CHECK(std::isinf(measureLoudness(std::vector<float>(rate, 0.0f), rate).truePeakDbtp));
    CHECK(std::isinf(measureLoudness(sine(1000, 0.3, rate), rate).integratedLufs));  // shorter than one block
    CHECK_THROWS_AS(measureLoudness(sine(1000, 1, rate), 0), grym::AudioError);
    CHECK_THROWS_AS(LoudnessMeter(48000, 0), grym::AudioError);
}

TEST_CASE("the loudness meter gives the same result whatever the block sizes", "[dsp][loudness]") {
    const int rate = 44100;
    auto signal = sine(440, 4.0, rate, 0.8);
    grym::test::append(signal, sine(2000, 4.0, rate, 0.1));
    const LoudnessResult whole = measureLoudness(signal, rate);
    LoudnessMeter meter(rate, 1);
    for (size_t at = 0, n = 1; at < signal.size(); at += n, n = n * 3 % 7919 + 1) meter.add(signal.data() + at, std::min(n, signal.size() - at));
    const LoudnessResult parts = meter.result();
    CHECK(parts.integratedLufs == whole.integratedLufs);
    CHECK(parts.shortTermMaxLufs == whole.shortTermMaxLufs);
    CHECK(parts.loudnessRangeLu == whole.loudnessRangeLu);
    CHECK(parts.truePeakDbtp == whole.truePeakDbtp);
}
