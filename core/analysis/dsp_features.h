#pragma once
// The model-free half of audio analysis: levels, loudness, spectral shape, rhythm, pitch,
// silences and segments of one mono signal, in plain C++.
#include "analysis/dsp_loudness.h"
#include "analysis/dsp_pitch.h"
#include "analysis/dsp_rhythm.h"
#include "analysis/dsp_segments.h"
#include "analysis/dsp_silence.h"
#include "audio/audio_buffer.h"

#include <nlohmann/json_fwd.hpp>

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
};

// `mono` must be finite; throws AudioError for a non-positive rate or empty input.
DspFeatures computeDspFeatures(const std::vector<float>& mono, int sampleRate, const DspOptions& options = {});
// Mixes any channel count down to mono first.
DspFeatures computeDspFeatures(const AudioBuffer& audio, const DspOptions& options = {});

// Summary values; the per-frame tracks (onset envelope, pitch, novelty) only when asked.
nlohmann::json toJson(const DspFeatures& features, bool includeFrameTracks = false);

}  // namespace grym::dsp
