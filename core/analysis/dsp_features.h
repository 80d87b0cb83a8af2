#pragma once
// The model-free half of audio analysis: levels, loudness, spectral shape, rhythm, pitch,
// silences and segments of one mono signal, in plain C++.
#include "analysis/dsp_fft.h"
#include "analysis/dsp_loudness.h"
#include "analysis/dsp_pitch.h"
#include "analysis/dsp_rhythm.h"
#include "analysis/dsp_segments.h"
#include "analysis/dsp_silence.h"
#include "audio/audio_buffer.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace grym::dsp {

struct DspOptions {
    double rolloffFraction = 0.85;
    int melBands = 40;
    double activeFloorDb = -60.0;  // spectral averages skip frames quieter than this (RMS, dBFS)
    PitchOptions pitch;
    OnsetOptions onsets;
    TempoOptions tempo;
    SilenceOptions silence;
    SegmentationOptions segments;
};

// Short-time spectra of a signal: Hann-windowed frames centred every hop (zero-padded at
// the ends), with the per-frame measures the features are built from.
struct SpectralFrames {
    int frameLength = 0;              // samples (a power of two near 50 ms)
    int hop = 0;                      // frameLength / 4
    double frameRate = 0;             // frames per second
    std::vector<float> rms;           // of the unwindowed frame
    std::vector<float> centroidHz;    // magnitude-weighted mean frequency
    std::vector<float> rolloffHz;     // frequency below which rolloffFraction of the magnitude lies
    std::vector<float> flatness;      // geometric / arithmetic mean of the power spectrum, 0..1
    std::vector<float> onsetStrength; // rectified rise of the log-mel spectrum from the previous frame
    FeatureMatrix logMel;             // frames x melBands, dB
};

SpectralFrames analyseSpectra(const std::vector<float>& mono, int sampleRate, const DspOptions& options = {});

// The per-frame half of analyseSpectra, one frame at a time (for streams): measure() takes
// frameLength() unwindowed samples centred on the frame's time, zeros outside the signal,
// and appends everything but the onset strength, which needs all frames (computeOnsetStrength).
class SpectralFrameAnalyzer {
public:
    explicit SpectralFrameAnalyzer(int sampleRate, const DspOptions& options = {});
    ~SpectralFrameAnalyzer();
    int frameLength() const { return frameLength_; }
    int hop() const { return frameLength_ / 4; }
    SpectralFrames emptyFrames() const;  // geometry set, no frames yet
    void measure(const float* frame, SpectralFrames& out);

private:
    struct MelBand;
    int sampleRate_;
    DspOptions options_;
    int frameLength_;
    std::optional<Fft> fft_;
    std::vector<float> window_;
    double powerScale_ = 1;
    std::vector<MelBand> bands_;
    std::vector<float> windowed_;
    std::vector<double> power_;
};

// Onset strength: how much the log-mel spectrum rose since the previous frame, with anything
// 80 dB below the loudest band floored so noise in the quiet parts is ignored.
void computeOnsetStrength(SpectralFrames& frames);

struct DspFeatures {
    int sampleRate = 0;
    double durationSeconds = 0;
    double peak = 0;
    double rms = 0;
    LoudnessResult loudness{};
    double spectralCentroidHz = 0;   // means over frames above activeFloorDb; 0 if none
    double spectralRolloffHz = 0;
    double spectralFlatness = 0;
    double zeroCrossingRate = 0;     // sign changes per sample over the whole signal
    double onsetFrameRate = 0;
    std::vector<float> onsetEnvelope;
    std::vector<double> onsetTimes;  // seconds
    TempoEstimate tempo;
    PitchTrack pitch;
    std::vector<TimeRegion> silentRegions;
    Segmentation segments;           // from the log-mel frames
    FeatureMatrix logMel;            // frames x melBands (dB), at onsetFrameRate
};

// `mono` must be finite; throws AudioError for a non-positive rate or empty input.
DspFeatures computeDspFeatures(const std::vector<float>& mono, int sampleRate, const DspOptions& options = {});
// Mixes any channel count down to mono first.
DspFeatures computeDspFeatures(const AudioBuffer& audio, const DspOptions& options = {});

// computeDspFeatures fed block by block, for recordings too long to hold: keeps only the
// samples the frames in progress still need (about one spectral frame beyond what was just
// pushed) plus the per-frame measures, so memory grows with the frame tracks, not the audio.
// The result equals computeDspFeatures of the joined blocks.
class DspStream {
public:
    explicit DspStream(int sampleRate, const DspOptions& options = {});
    ~DspStream();
    DspStream(DspStream&&) noexcept;
    DspStream& operator=(DspStream&&) noexcept;

    // Throws AudioError for a non-finite sample, naming its index in the whole stream.
    void push(const float* samples, size_t count);
    // After the last push; throws AudioError when nothing was pushed. Call once.
    DspFeatures finish();

    int64_t samplesPushed() const;
    size_t bufferedSamples() const;      // samples held right now
    size_t peakBufferedSamples() const;  // the most held at once so far

private:
    struct State;
    std::unique_ptr<State> state_;
};

// Summary values; the per-frame tracks (onset envelope, pitch, novelty) only when asked.
nlohmann::json toJson(const DspFeatures& features, bool includeFrameTracks = false);

}  // namespace grym::dsp
