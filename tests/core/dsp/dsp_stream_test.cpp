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
        CHECK(stream.framesPushed() == static_cast<int64_t>(signal.size()));
        // Never more than a block plus one spectral frame's worth of history, the block's mono
        // average for aubio and the hops aubio's two detectors are filling (256 + 256 at most).
        CHECK(stream.peakBufferedSamples() <= 3000 + 2048 + 3000 + 512);
        const DspFeatures parts = stream.finish();

        CHECK(parts.durationSeconds == whole.durationSeconds);
        CHECK(parts.peak == whole.peak);
        // The energy is summed sample by sample in stream order whatever the blocks: bit-equal.
        CHECK(parts.rms == whole.rms);
        CHECK(parts.zeroCrossingRate == whole.zeroCrossingRate);
        CHECK(parts.loudness.integratedLufs == whole.loudness.integratedLufs);
        CHECK(parts.loudness.truePeakDbtp == whole.loudness.truePeakDbtp);
        CHECK(parts.spectralCentroidHz == whole.spectralCentroidHz);
        CHECK(parts.spectralRolloffHz == whole.spectralRolloffHz);
        CHECK(parts.spectralFlatness == whole.spectralFlatness);
        CHECK(parts.onsets.envelope == whole.onsets.envelope);
        CHECK(parts.onsets.times == whole.onsets.times);
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
    CHECK(features.spectralFrameRate == spectra.frameRate);
    CHECK(features.tempo.bpm == estimateTempo(spectra.onsetStrength, spectra.frameRate).bpm);
}

TEST_CASE("a stereo stream measures each channel and the channels together", "[dsp][stream]") {
    const int rate = 48000;
    const auto left = grym::test::sine(440, 2.0, rate, 0.5);
    const auto right = grym::test::sine(3000, 2.0, rate, 0.125);
    grym::AudioBuffer stereo;
    stereo.sampleRate = rate;
    stereo.channels = 2;
    for (size_t i = 0; i < left.size(); ++i) {
        stereo.samples.push_back(left[i]);
        stereo.samples.push_back(right[i]);
    }
    const DspFeatures f = computeDspFeatures(stereo);
    CHECK(f.sampleRate == rate);
    CHECK(f.channels == 2);
    REQUIRE(f.channelLevels.size() == 2);
    // Each channel's own level, and the overall RMS from both channels' samples.
    CHECK(f.channelLevels[0].peak == Approx(0.5).epsilon(1e-4));
    CHECK(f.channelLevels[1].peak == Approx(0.125).epsilon(1e-3));
    CHECK(f.channelLevels[0].rms == Approx(0.5 / std::sqrt(2.0)).epsilon(1e-4));
    CHECK(f.channelLevels[1].rms == Approx(0.125 / std::sqrt(2.0)).epsilon(1e-4));
    CHECK(f.peak == f.channelLevels[0].peak);
    CHECK(f.rms == Approx(std::sqrt((0.125 + 0.0078125) / 2.0)).epsilon(1e-4));
    // The spectrum sums both channels' power: the magnitude-weighted centroid lies between the
    // tones, at (440 * 0.5 + 3000 * 0.125) / 0.625 = 952 Hz, within a bin (23 Hz at 48 kHz).
    CHECK(f.spectralCentroidHz == Approx((440 * 0.5 + 3000 * 0.125) / 0.625).margin(48000.0 / 2048));
}

TEST_CASE("out-of-phase stereo does not cancel in levels, loudness or spectrum", "[dsp][stream]") {
    const int rate = 44100;
    const auto tone = grym::test::sine(1000, 3.0, rate, 0.5);
    grym::AudioBuffer stereo;
    stereo.sampleRate = rate;
    stereo.channels = 2;
    for (float v : tone) {
        stereo.samples.push_back(v);
        stereo.samples.push_back(-v);
    }
    const DspFeatures f = computeDspFeatures(stereo);
    const DspFeatures mono = computeDspFeatures(tone, rate);
    CHECK(f.rms == Approx(mono.rms).epsilon(1e-6));
    // Two channels of the same power: 3 LU above one.
    CHECK(f.loudness.integratedLufs == Approx(mono.loudness.integratedLufs + 10 * std::log10(2.0)).margin(0.1));
    CHECK(f.spectralCentroidHz == Approx(mono.spectralCentroidHz).epsilon(1e-4));
    CHECK(f.silentRegions.empty());
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
    CHECK_THROWS_AS(DspStream(16000, 0), grym::AudioError);
    DspStream stereo(16000, 2);
    std::vector<float> frames(200, 0.1f);
    frames[51] = std::nanf("");
    CHECK_THROWS_WITH(stereo.push(frames.data(), 100), Catch::Contains("sample 25 of channel 1"));
}
