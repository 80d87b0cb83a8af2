#include "audio/audio_ops.h"
#include "audio/resampler.h"
#include "common/error.h"
#include "core/measurement_bounds.h"
#include "signals.h"

#include <catch2/catch.hpp>

using namespace grym;

namespace {

const ResampleQuality kAllQualities[] = {ResampleQuality::SincBest, ResampleQuality::SincMedium,
                                         ResampleQuality::SincFastest, ResampleQuality::ZeroOrderHold,
                                         ResampleQuality::Linear};

AudioBuffer channel(const AudioBuffer& audio, int c) {
    AudioBuffer mono;
    mono.sampleRate = audio.sampleRate;
    mono.channels = 1;
    for (int64_t f = 0; f < audio.frames(); ++f) mono.samples.push_back(audio.sample(f, c));
    return mono;
}

}  // namespace

TEST_CASE("resampled length is the input length times the rate ratio, rounded", "[audio][resample]") {
    struct Case { int64_t frames; int from, to; int64_t expected; };
    for (const Case& c : {Case{44100, 44100, 16000, 16000}, Case{8000, 16000, 48000, 24000},
                          Case{12345, 44100, 22050, 6173}, Case{1000, 48000, 44100, 919}, Case{7, 16000, 8000, 4}}) {
        AudioBuffer in;
        in.sampleRate = c.from;
        in.channels = 2;
        in.samples.assign(static_cast<size_t>(c.frames) * 2, 0.25f);
        for (auto q : kAllQualities) {
            const AudioBuffer out = resample(in, c.to, q);
            INFO(c.from << " -> " << c.to << " Hz with " << toString(q));
            CHECK(out.sampleRate == c.to);
            CHECK(out.channels == 2);
            CHECK(out.frames() == c.expected);
        }
    }
}

TEST_CASE("resampling keeps a tone's frequency and level", "[audio][resample]") {
    const AudioBuffer tone = test::makeSine(1000, 1.0, 44100, 1, 0.5);
    for (int target : {16000, 22050, 48000}) {
        for (auto q : {ResampleQuality::SincBest, ResampleQuality::SincMedium, ResampleQuality::SincFastest,
                       ResampleQuality::Linear}) {
            const AudioBuffer out = resample(tone, target, q);
            const int64_t n = out.frames();
            INFO("44100 -> " << target << " Hz with " << toString(q));
            CHECK(test::measureFrequency(out, n / 10, 9 * n / 10) ==
                  Approx(1000).epsilon(test::crossingFrequencyBound(n / 10, 9 * n / 10, 1000, target)));
            // A requirement rather than a rounding bound: the level within 0.17 dB (2 %), the
            // passband flatness asked of any converter here; linear interpolation, the least flat,
            // droops by (pi f / fs)^2 / 3 = 0.17 % at 1 kHz from 44.1 kHz.
            CHECK(test::rmsOf(out, n / 10, 9 * n / 10) == Approx(0.5 / std::sqrt(2.0)).epsilon(0.02));
        }
    }
}

TEST_CASE("each channel is resampled on its own", "[audio][resample]") {
    AudioBuffer stereo = test::makeSine(440, 1.0, 48000, 2);
    const AudioBuffer right = test::makeSine(1500, 1.0, 48000, 1);
    for (int64_t f = 0; f < stereo.frames(); ++f) stereo.samples[f * 2 + 1] = right.samples[f];
    const AudioBuffer out = resample(stereo, 16000, ResampleQuality::SincMedium);
    const int64_t n = out.frames();
    CHECK(test::measureFrequency(channel(out, 0), n / 10, 9 * n / 10) ==
          Approx(440).epsilon(test::crossingFrequencyBound(n / 10, 9 * n / 10, 440, 16000)));
    CHECK(test::measureFrequency(channel(out, 1), n / 10, 9 * n / 10) ==
          Approx(1500).epsilon(test::crossingFrequencyBound(n / 10, 9 * n / 10, 1500, 16000)));
}

TEST_CASE("band-limited converters suppress a tone above the new Nyquist by at least 60 dB", "[audio][resample]") {
    // 12 kHz at 44.1 kHz, converted to 16 kHz (Nyquist 8 kHz): it would alias to 4 kHz.
    const AudioBuffer tone = test::makeSine(12000, 1.0, 44100, 1, 0.5);
    const double inputRms = test::rmsOf(tone, 0, tone.frames());
    auto residualDb = [&](ResampleQuality q) {
        const AudioBuffer out = resample(tone, 16000, q);
        const int64_t n = out.frames();
        return amplitudeToDb(test::rmsOf(out, n / 10, 9 * n / 10) / inputRms);
    };
    // libsamplerate documents a worst-case signal-to-noise ratio of 97 dB for all three sinc
    // converters (they differ in bandwidth: 97, 90 and 80 %).
    const double documentedSnrDb = 97.0;
    for (auto q : {ResampleQuality::SincBest, ResampleQuality::SincMedium, ResampleQuality::SincFastest}) {
        INFO(toString(q));
        CHECK(residualDb(q) < -documentedSnrDb);
    }
    // The measurement can see aliasing: linear interpolation lets most of it through (its
    // response at the 4 kHz alias of 12 kHz is sinc^2(12 / 44.1) = -2.1 dB; -30 dB is far below).
    CHECK(residualDb(ResampleQuality::Linear) > -30.0);
}

TEST_CASE("resampler names parse, and bad rates are refused", "[audio][resample][errors]") {
    for (auto q : kAllQualities) CHECK(parseResampleQuality(toString(q)) == q);
    CHECK(parseResampleQuality("SINC_BEST") == ResampleQuality::SincBest);
    CHECK_THROWS_WITH(parseResampleQuality("cubic"), Catch::Contains("unknown resampler 'cubic'"));

    const AudioBuffer tone = test::makeSine(440, 0.1, 16000);
    CHECK_THROWS_AS(resample(tone, 0), AudioError);
    CHECK_THROWS_WITH(resample(tone, 16000 * 300), Catch::Contains("256:1"));
    AudioBuffer broken = tone;
    broken.sampleRate = 0;
    CHECK_THROWS_AS(resample(broken, 8000), AudioError);
    CHECK(resample(tone, 16000).samples == tone.samples);
}

TEST_CASE("streaming in blocks of any size matches resampling the whole at once", "[audio][resample]") {
    const AudioBuffer noise = test::makeNoise(1.3, 44100, 2, 0.4);
    for (auto q : {ResampleQuality::SincMedium, ResampleQuality::SincFastest, ResampleQuality::Linear}) {
        const AudioBuffer whole = resample(noise, 16000, q);
        StreamingResampler stream(2, 44100, 16000, q);
        AudioBuffer joined;
        std::mt19937 rng(4);
        std::uniform_int_distribution<int64_t> blockSize(1, 9000);
        for (int64_t at = 0; at < noise.frames();) {
            const int64_t n = std::min(noise.frames() - at, blockSize(rng));
            AudioBuffer block;
            block.sampleRate = 44100;
            block.channels = 2;
            block.samples.assign(noise.samples.begin() + at * 2, noise.samples.begin() + (at + n) * 2);
            at += n;
            const AudioBuffer out = stream.process(block, at == noise.frames());
            joined.samples.insert(joined.samples.end(), out.samples.begin(), out.samples.end());
        }
        INFO(toString(q));
        REQUIRE(joined.samples.size() == whole.samples.size());
        double worst = 0;
        for (size_t i = 0; i < whole.samples.size(); ++i) worst = std::max(worst, double(std::fabs(joined.samples[i] - whole.samples[i])));
        // The same converter on the same samples: libsamplerate sums in float64 and stores
        // float32, so another block split can at most tip one float32 rounding, an ulp (2u) of
        // the largest output.
        CHECK(worst <= 2 * test::kFloatRoundoff * peakAmplitude(whole));
    }
}

TEST_CASE("a stream refuses mismatched blocks and use after its end", "[audio][resample][errors]") {
    StreamingResampler stream(1, 16000, 8000);
    const AudioBuffer stereo = test::makeSine(440, 0.1, 16000, 2);
    CHECK_THROWS_WITH(stream.process(stereo, false), Catch::Contains("does not match"));
    const AudioBuffer mono = test::makeSine(440, 0.1, 16000, 1);
    CHECK(stream.process(mono, true).frames() == 800);
    CHECK_THROWS_WITH(stream.process(mono, true), Catch::Contains("already finished"));
    CHECK_THROWS_AS(StreamingResampler(1, 16000, 0), AudioError);
}
