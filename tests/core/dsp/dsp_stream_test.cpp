#include "analysis/dsp_features.h"
#include "common/error.h"
#include "dsp_signals.h"

#include <catch2/catch.hpp>

#include <random>

using namespace grym::dsp;

namespace {

// Speech-like test material: a tone, a click track and noise, with silences between.
std::vector<float> mixedSignal(int rate) {
    std::vector<float> out = grym::test::sine(330, 1.5, rate, 0.4);
    grym::test::append(out, std::vector<float>(static_cast<size_t>(0.8 * rate), 0.0f));
    grym::test::append(out, grym::test::clickTrack(100, 3.0, rate));
    grym::test::append(out, grym::test::whiteNoise(0.7, rate, 0.2));
    grym::test::append(out, std::vector<float>(static_cast<size_t>(0.5 * rate), 0.0f));
    grym::test::append(out, grym::test::sine(523.25, 1.0, rate, 0.2));
    return out;
}

}  // namespace

TEST_CASE("the DSP stream fed in blocks of any size gives exactly the one-shot features", "[dsp][stream]") {
    for (int rate : {16000, 22050}) {
        INFO(rate << " Hz");
        const std::vector<float> signal = mixedSignal(rate);
        const DspFeatures whole = computeDspFeatures(signal, rate);

        DspStream stream(rate);
        std::mt19937 rng(3);
        std::uniform_int_distribution<size_t> blockSize(1, 3000);
        for (size_t at = 0; at < signal.size();) {
            const size_t n = std::min(blockSize(rng), signal.size() - at);
            stream.push(signal.data() + at, n);
            at += n;
        }
        CHECK(stream.samplesPushed() == static_cast<int64_t>(signal.size()));
        // Never more than a block plus one spectral frame's worth of history.
        CHECK(stream.peakBufferedSamples() <= 3000 + 2048);
        const DspFeatures parts = stream.finish();

        CHECK(parts.durationSeconds == whole.durationSeconds);
        CHECK(parts.peak == whole.peak);
        // The energy is summed sample by sample in stream order whatever the blocks: bit-equal.
        CHECK(parts.rms == whole.rms);
        CHECK(parts.zeroCrossingRate == whole.zeroCrossingRate);
        CHECK(parts.loudness.integratedLufs == whole.loudness.integratedLufs);
        CHECK(parts.loudness.blocks == whole.loudness.blocks);
        CHECK(parts.spectralCentroidHz == whole.spectralCentroidHz);
        CHECK(parts.spectralRolloffHz == whole.spectralRolloffHz);
        CHECK(parts.spectralFlatness == whole.spectralFlatness);
        CHECK(parts.onsetEnvelope == whole.onsetEnvelope);
        CHECK(parts.onsetTimes == whole.onsetTimes);
        CHECK(parts.tempo.bpm == whole.tempo.bpm);
        CHECK(parts.pitch.frequencies == whole.pitch.frequencies);
        CHECK(parts.pitch.medianFrequency == whole.pitch.medianFrequency);
        CHECK(parts.logMel.values == whole.logMel.values);
        CHECK(parts.segments.boundaries == whole.segments.boundaries);
        REQUIRE(parts.silentRegions.size() == whole.silentRegions.size());
        for (size_t i = 0; i < parts.silentRegions.size(); ++i) {
            CHECK(parts.silentRegions[i].start == whole.silentRegions[i].start);
            CHECK(parts.silentRegions[i].end == whole.silentRegions[i].end);
        }
    }
}

TEST_CASE("the one-shot spectra and the stream's log-mel frames agree", "[dsp][stream]") {
    const int rate = 16000;
    const std::vector<float> signal = mixedSignal(rate);
    const SpectralFrames spectra = analyseSpectra(signal, rate);
    const DspFeatures features = computeDspFeatures(signal, rate);
    CHECK(spectra.logMel.frames == signal.size() / spectra.hop + 1);
    CHECK(features.logMel.values == spectra.logMel.values);
    CHECK(features.onsetEnvelope == spectra.onsetStrength);
}

TEST_CASE("the DSP stream names a bad sample by its place in the whole stream and refuses reuse", "[dsp][stream]") {
    DspStream stream(16000);
    std::vector<float> block(1000, 0.1f);
    stream.push(block.data(), block.size());
    block[17] = std::nanf("");
    CHECK_THROWS_WITH(stream.push(block.data(), block.size()), Catch::Contains("sample 1017"));

    DspStream empty(16000);
    CHECK_THROWS_WITH(empty.finish(), Catch::Contains("empty"));
    DspStream once(16000);
    const std::vector<float> tone = grym::test::sine(440, 0.5, 16000, 0.5);
    once.push(tone.data(), tone.size());
    (void)once.finish();
    CHECK_THROWS_AS(once.finish(), grym::AudioError);
    CHECK_THROWS_AS(DspStream(0), grym::AudioError);
}
