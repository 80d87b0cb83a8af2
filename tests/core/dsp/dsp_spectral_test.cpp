#include "analysis/dsp_features.h"
#include "common/error.h"
#include "dsp_signals.h"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

using namespace grym::dsp;

TEST_CASE("a sine's spectral centroid and roll-off sit at its frequency and it is not flat", "[dsp][spectral]") {
    const int rate = 16000;
    const auto f = computeDspFeatures(grym::test::sine(1000, 2.0, rate, 0.5), rate);
    const double binHz = static_cast<double>(rate) / 1024;
    CHECK(f.spectralCentroidHz == Approx(1000).margin(binHz));
    CHECK(f.spectralRolloffHz == Approx(1000).margin(2 * binHz));
    CHECK(f.spectralFlatness < 0.01);
    CHECK(f.zeroCrossingRate == Approx(2.0 * 1000 / rate).epsilon(0.01));
    CHECK(f.peak == Approx(0.5).epsilon(1e-3));
    CHECK(f.rms == Approx(0.5 / std::sqrt(2.0)).epsilon(1e-3));
    CHECK(f.durationSeconds == Approx(2.0));
}

TEST_CASE("white noise is spectrally flat and bright", "[dsp][spectral]") {
    const int rate = 16000;
    const auto f = computeDspFeatures(grym::test::whiteNoise(2.0, rate), rate);
    CHECK(f.spectralFlatness > 0.4);  // about exp(-Euler's gamma) = 0.56 for a flat spectrum
    CHECK(f.spectralCentroidHz == Approx(rate / 4.0).epsilon(0.05));
    CHECK(f.spectralRolloffHz == Approx(0.85 * rate / 2).epsilon(0.05));
    CHECK(f.zeroCrossingRate == Approx(0.5).margin(0.03));
}

TEST_CASE("spectral averages ignore silent frames", "[dsp][spectral]") {
    const int rate = 16000;
    auto toneThenSilence = grym::test::sine(2000, 1.0, rate, 0.5);
    grym::test::append(toneThenSilence, std::vector<float>(3 * rate, 0.0f));
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

    const auto tone = toJson(computeDspFeatures(grym::test::sine(440, 2.0, rate, 0.5), rate), true);
    for (const char* key : {"duration_s", "peak", "rms", "loudness_lufs", "spectral_centroid_hz", "spectral_rolloff_hz",
                            "spectral_flatness", "zero_crossing_rate", "onsets_s", "voiced_ratio", "segment_boundaries_s",
                            "onset_envelope", "pitch_track", "novelty"})
        CHECK(tone.contains(key));
    CHECK(tone["pitch_hz"].get<double>() == Approx(440).epsilon(0.01));
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
}
