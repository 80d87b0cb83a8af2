#include "analysis/dsp_features.h"
#include "common/error.h"
#include "core/measurement_bounds.h"
#include "dsp_signals.h"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

using namespace grym::dsp;

namespace {

constexpr double kEulerGamma = 0.5772156649015329;
// Coefficient of variation of a Rayleigh-distributed magnitude (the FFT bin of noise):
// sqrt(4 / pi - 1).
const double kRayleighSpread = std::sqrt(4.0 / M_PI - 1.0);

}  // namespace

TEST_CASE("a sine's spectral centroid and roll-off sit at its frequency and it is not flat", "[dsp][spectral]") {
    const int rate = 16000;
    const auto f = computeDspFeatures(grym::test::sine(1000, 2.0, rate, 0.5), rate);
    const double binHz = static_cast<double>(rate) / SpectralFrameAnalyzer(rate).frameLength();
    // The Hann window's main lobe is symmetric about the tone and spans +-2 bins: the
    // magnitude-weighted mean lies within a bin of it, the 85 % point within the lobe.
    CHECK(f.spectralCentroidHz == Approx(1000).margin(binHz));
    CHECK(f.spectralRolloffHz == Approx(1000).margin(2 * binHz));
    // A threshold between two kinds, not a tolerance: a tone's power lies in the main lobe's
    // 3 bins (1000 Hz is bin 64 exactly), so the geometric mean over all 513 bins is set by
    // the 1e-10 power floor and the flatness is about 1e-6 (less than 1e-4 with the frames at
    // the edges); white noise gives exp(-gamma) = 0.56 (next test).
    CHECK(f.spectralFlatness < 0.01);
    // The sign changes 2 f / rate per sample, counted over n - 1 sample pairs: within one change.
    const double pairs = 2.0 * rate - 1;
    CHECK(f.zeroCrossingRate == Approx(2.0 * 1000 / rate).margin(1.0 / pairs));
    // 16 samples per period put the crest on sample 4: the peak is 0.5 in float32, and the
    // mean square of whole periods is exactly A^2 / 2 up to the samples' float32 rounding and
    // a float64 sum of 2 s of squares.
    CHECK(f.peak == Approx(0.5).epsilon(grym::test::kFloatRoundoff));
    CHECK(f.rms == Approx(0.5 / std::sqrt(2.0)).epsilon(grym::test::kFloatRoundoff + grym::test::summationBound(2.0 * rate)));
    CHECK(f.durationSeconds == Approx(2.0));
}

TEST_CASE("white noise is spectrally flat and bright", "[dsp][spectral]") {
    const int rate = 16000;
    const double seconds = 2.0;
    const auto f = computeDspFeatures(grym::test::whiteNoise(seconds, rate), rate);
    // Every bin of white noise holds an exponentially distributed power and a Rayleigh
    // magnitude of the same mean, so per frame: flatness exp(E log p) / E p = exp(-gamma),
    // with log p spreading pi / sqrt(6) per bin; the centroid is Nyquist / 2, spreading
    // cv Nyquist / sqrt(12 bins); the 85 % roll-off is 0.85 Nyquist, spreading
    // cv sqrt(bins r (1 - r)) bins. The frames overlap by 3/4, so the means over the signal
    // average at least frames / 4 independent frames.
    const SpectralFrameAnalyzer analyzer(rate);
    const double bins = analyzer.frameLength() / 2 + 1, nyquist = rate / 2.0, binHz = nyquist / (bins - 1);
    const double independentFrames = seconds * rate / analyzer.frameLength();
    const double averaging = 1.0 / std::sqrt(independentFrames), sigmas = grym::test::kChanceSigmas;
    CHECK(f.spectralFlatness == Approx(std::exp(-kEulerGamma)).epsilon(sigmas * averaging * M_PI / std::sqrt(6.0 * bins)));
    CHECK(f.spectralCentroidHz ==
          Approx(nyquist / 2).margin(sigmas * averaging * kRayleighSpread * nyquist / std::sqrt(12.0 * bins)));
    const double r = 0.85;
    CHECK(f.spectralRolloffHz ==
          Approx(r * nyquist).margin(binHz * (1 + sigmas * averaging * kRayleighSpread * std::sqrt(bins * r * (1 - r)))));
    // Independent samples symmetric about 0 change sign with probability 1/2: a binomial
    // share over n - 1 pairs, spreading 0.5 / sqrt(n - 1).
    CHECK(f.zeroCrossingRate == Approx(0.5).margin(sigmas * 0.5 / std::sqrt(seconds * rate - 1)));
}

TEST_CASE("spectral averages ignore silent frames", "[dsp][spectral]") {
    const int rate = 16000;
    auto toneThenSilence = grym::test::sine(2000, 1.0, rate, 0.5);
    grym::test::append(toneThenSilence, std::vector<float>(3 * rate, 0.0f));
    // A threshold between two outcomes: the 4 frames overlapping the tone's abrupt end spread
    // some energy above 2 kHz (measured 0.7 %), while counting the 190 silent frames as 0 Hz
    // would pull the mean to about 500 Hz (-75 %).
    CHECK(computeDspFeatures(toneThenSilence, rate).spectralCentroidHz == Approx(2000).epsilon(0.03));
    const auto silent = computeDspFeatures(std::vector<float>(rate, 0.0f), rate);
    CHECK(silent.spectralCentroidHz == 0.0);
    CHECK(silent.peak == 0.0);
}

TEST_CASE("features serialise to JSON with null for undefined values", "[dsp][json]") {
    const int rate = 16000;
    const auto silent = toJson(computeDspFeatures(std::vector<float>(rate, 0.0f), rate));
    CHECK(silent["loudness_lufs"].is_null());
    CHECK(silent["pitch_hz"].is_null());
    CHECK(silent["tempo_bpm"].is_null());
    CHECK(silent["silent_regions"].size() == 1);
    CHECK(silent["measured_at"]["sample_rate_hz"] == rate);
    CHECK(silent["measured_at"]["channels"] == 1);
    CHECK(silent["units"]["loudness_lufs"] == "LUFS");
    CHECK(silent["units"]["true_peak_dbtp"] == "dBTP");
    CHECK(silent["channel_levels"]["channel_1"]["peak_dbfs"].is_null());

    const auto tone = toJson(computeDspFeatures(grym::test::sine(440, 2.0, rate, 0.5), rate), true);
    for (const char* key : {"duration_s", "peak", "rms", "loudness_lufs", "short_term_max_lufs", "loudness_range_lu", "true_peak_dbtp",
                            "spectral_centroid_hz", "spectral_rolloff_hz",
                            "spectral_flatness", "zero_crossing_rate", "onsets_s", "voiced_ratio", "segment_boundaries_s",
                            "onset_envelope", "pitch_track", "novelty"})
        CHECK(tone.contains(key));
    CHECK(tone["pitch_hz"].get<double>() == Approx(440).epsilon(grym::test::kPitchTolerance));
    CHECK(tone["loudness_lufs"].get<double>() < 0);
    CHECK_FALSE(toJson(computeDspFeatures(grym::test::sine(440, 2.0, rate), rate)).contains("pitch_track"));
}

TEST_CASE("bad input to the features is refused", "[dsp][errors]") {
    CHECK_THROWS_WITH(computeDspFeatures(std::vector<float>{}, 16000), Catch::Contains("empty"));
    CHECK_THROWS_WITH(computeDspFeatures(std::vector<float>(100, 0.0f), 0), Catch::Contains("sample rate 0"));
    std::vector<float> poisoned(1000, 0.0f);
    poisoned[500] = std::nanf("");
    CHECK_THROWS_WITH(computeDspFeatures(poisoned, 16000), Catch::Contains("sample 500"));
    grym::AudioBuffer stereo;
    stereo.sampleRate = 16000;
    stereo.channels = 2;
    stereo.samples.assign(32000, 0.25f);
    CHECK(computeDspFeatures(stereo).durationSeconds == Approx(1.0));
    CHECK(computeDspFeatures(stereo).channels == 2);
}
