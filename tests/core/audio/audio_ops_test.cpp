#include "audio/audio_ops.h"
#include "common/error.h"
#include "core/measurement_bounds.h"
#include "signals.h"

#include <catch2/catch.hpp>

using namespace grym;
using test::kFloatRoundoff;

TEST_CASE("mono mix-down averages the channels", "[audio][ops]") {
    AudioBuffer stereo;
    stereo.sampleRate = 8000;
    stereo.channels = 2;
    stereo.samples = {1.0f, 0.0f, 0.5f, -0.5f, -1.0f, -0.5f};
    const AudioBuffer mono = mixToMono(stereo);
    CHECK(mono.channels == 1);
    CHECK(mono.sampleRate == 8000);
    CHECK(mono.samples == std::vector<float>{0.5f, 0.0f, -0.75f});
    CHECK(mixToMono(mono).samples == mono.samples);
}

TEST_CASE("peak and RMS of known signals", "[audio][ops]") {
    const AudioBuffer sine = test::makeSine(1000, 1.0, 48000, 2, 0.5);
    // 48 samples per period put the crest on sample 12: the peak is 0.5 in float32. The mean
    // square of whole periods is exactly A^2 / 2, up to the samples' float32 rounding and a
    // float64 sum of all the squares.
    CHECK(peakAmplitude(sine) == Approx(0.5).epsilon(kFloatRoundoff));
    CHECK(rmsLevel(sine) == Approx(0.5 / std::sqrt(2.0))
                                .epsilon(kFloatRoundoff + test::summationBound(static_cast<double>(sine.samples.size()))));
    CHECK(peakAmplitude(test::makeSilence(1, 8000)) == 0.0f);
    CHECK(rmsLevel(test::makeSilence(1, 8000)) == 0.0);
    CHECK(amplitudeToDb(1.0) == Approx(0.0));
    // -6.0206 is 20 log10(1/2) to four decimals: within half a unit of the fourth, which is
    // ln(10) / 20 of that relative in amplitude.
    const double lastDecimal = 0.5e-4;
    CHECK(amplitudeToDb(0.5) == Approx(-6.0206).epsilon(0).margin(lastDecimal));
    CHECK(std::isinf(amplitudeToDb(0.0)));
    CHECK(dbToAmplitude(-6.0206) == Approx(0.5).epsilon(std::log(10.0) / 20 * lastDecimal));
}

TEST_CASE("peak normalisation reaches the target and leaves silence alone", "[audio][ops]") {
    AudioBuffer noise = test::makeNoise(0.5, 16000, 2, 0.1);
    // The gain is rounded to float32 and so is each product: the peak within 2u relative,
    // 20 / ln(10) times that in dB.
    const double gainRounding = 2 * kFloatRoundoff;
    normalizePeak(noise, -1.0);
    CHECK(amplitudeToDb(peakAmplitude(noise)) == Approx(-1.0).epsilon(0).margin(20 / std::log(10.0) * gainRounding));
    normalizePeak(noise, 0.0);
    CHECK(peakAmplitude(noise) == Approx(1.0).epsilon(gainRounding));
    AudioBuffer silence = test::makeSilence(0.5, 16000);
    normalizePeak(silence, -1.0);
    CHECK(peakAmplitude(silence) == 0.0f);
    CHECK_THROWS_AS(normalizePeak(noise, std::nan("")), AudioError);
}

TEST_CASE("trimming by time keeps the requested frames", "[audio][ops]") {
    const AudioBuffer tone = test::makeSine(440, 2.0, 8000, 2);
    const AudioBuffer middle = trimSeconds(tone, 0.5, 1.25);
    CHECK(middle.frames() == 6000);
    CHECK(middle.channels == 2);
    CHECK(middle.samples.front() == tone.samples[4000 * 2]);
    CHECK(trimSeconds(tone, 1.5).frames() == 4000);
    CHECK(trimSeconds(tone, -3.0, 99.0).frames() == 16000);
    CHECK_THROWS_WITH(trimSeconds(tone, 1.0, 0.5), Catch::Contains("before start"));
}

TEST_CASE("trimming silence cuts quiet ends and keeps the margin asked for", "[audio][ops]") {
    AudioBuffer padded = test::makeSilence(0.5, 8000);
    const AudioBuffer tone = test::makeSine(440, 1.0, 8000);
    padded.samples.insert(padded.samples.end(), tone.samples.begin(), tone.samples.end());
    const AudioBuffer tail = test::makeSilence(0.25, 8000);
    padded.samples.insert(padded.samples.end(), tail.samples.begin(), tail.samples.end());

    const AudioBuffer trimmed = trimSilence(padded, -60.0);
    // The sine starts at sin(0) = 0, so the first loud sample is one frame in; the frame
    // where it ends may be cut too: within two frames.
    CHECK(trimmed.duration() == Approx(1.0).margin(2.0 / 8000));
    CHECK(trimSilence(padded, -60.0, 0.1).duration() == Approx(1.2).margin(2.0 / 8000));
    CHECK(trimSilence(test::makeSilence(1, 8000)).empty());
    AudioBuffer broken = tone;
    broken.channels = 0;
    CHECK_THROWS_AS(trimSilence(broken), AudioError);
}
