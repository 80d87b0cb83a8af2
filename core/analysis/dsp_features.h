#pragma once
// The model-free half of audio analysis, measured on the signal as it is (its own rate and
// channels): levels per channel, BS.1770 loudness (libebur128), spectral shape up to Nyquist
// (FFTW), pitch, onsets and tempo (aubio, on the channels' average), silences and segments.
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
    double activeFloorDb = -60.0;  // spectral averages skip frames quieter than this (RMS over channels, dBFS)
    PitchOptions pitch;
    OnsetOptions onsets;
    TempoOptions tempo;
    SilenceOptions silence;
    SegmentationOptions segments;
};

// Short-time spectra of a signal: Hann-windowed frames centred every hop (zero-padded at
// the ends), from 0 Hz to the signal's Nyquist, with the per-frame measures the features are
// built from. With several channels the power spectra of the channels are summed (so
// out-of-phase channels do not cancel as they would in a mix).
struct SpectralFrames {
    int frameLength = 0;              // samples (a power of two near 50 ms)
    int hop = 0;                      // frameLength / 4
    double frameRate = 0;             // frames per second
    std::vector<float> rms;           // of the unwindowed frame, over all channels
    std::vector<float> centroidHz;    // magnitude-weighted mean frequency
    std::vector<float> rolloffHz;     // frequency below which rolloffFraction of the magnitude lies
    std::vector<float> flatness;      // geometric / arithmetic mean of the power spectrum, 0..1
    std::vector<float> onsetStrength; // rectified rise of the log-mel spectrum from the previous frame (the tempo's envelope)
    FeatureMatrix logMel;             // frames x melBands, dB
};

SpectralFrames analyseSpectra(const std::vector<float>& mono, int sampleRate, const DspOptions& options = {});

// The per-frame half of analyseSpectra, one frame at a time (for streams): measure() takes,
// for each channel, frameLength() unwindowed samples centred on the frame's time (zeros
// outside the signal).
class SpectralFrameAnalyzer {
public:
    explicit SpectralFrameAnalyzer(int sampleRate, const DspOptions& options = {});
    ~SpectralFrameAnalyzer();
    int frameLength() const { return frameLength_; }
    int hop() const { return frameLength_ / 4; }
    SpectralFrames emptyFrames() const;  // geometry set, no frames yet
    void measure(const float* const* channelFrames, size_t channels, SpectralFrames& out);

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
    std::vector<double> power_, powerSum_;
};

// Onset strength: how much the log-mel spectrum rose since the previous frame, with anything
// 80 dB below the loudest band floored so noise in the quiet parts is ignored.
void computeOnsetStrength(SpectralFrames& frames);

struct ChannelLevels {
    double peak = 0;  // largest |sample|, full scale 1
    double rms = 0;
};

struct DspFeatures {
    int sampleRate = 0;              // the rate and channels everything below was measured at
    int channels = 0;
    double durationSeconds = 0;
    double peak = 0;                 // over all channels
    double rms = 0;                  // over all samples of all channels
    std::vector<ChannelLevels> channelLevels;
    LoudnessResult loudness{};
    double spectralCentroidHz = 0;   // means over frames above activeFloorDb; 0 if none
    double spectralRolloffHz = 0;
    double spectralFlatness = 0;
    double zeroCrossingRate = 0;     // sign changes per sample, averaged over the channels
    OnsetTrack onsets;               // aubio, on the channels' average
    TempoEstimate tempo;             // from the log-mel onset strength (all channels)
    PitchTrack pitch;                // aubio, on the channels' average
    std::vector<TimeRegion> silentRegions;
    Segmentation segments;           // from the log-mel frames
    double spectralFrameRate = 0;    // log-mel frames per second
    FeatureMatrix logMel;            // frames x melBands (dB)
};

// `mono` must be finite; throws AudioError for a non-positive rate or empty input.
DspFeatures computeDspFeatures(const std::vector<float>& mono, int sampleRate, const DspOptions& options = {});
// At the buffer's own rate and channel count.
DspFeatures computeDspFeatures(const AudioBuffer& audio, const DspOptions& options = {});

// computeDspFeatures fed block by block, for recordings too long to hold: keeps only the
// samples the frames in progress still need (about one spectral frame beyond what was just
// pushed, per channel) plus the per-frame measures, so memory grows with the frame tracks,
// not the audio. The result equals computeDspFeatures of the joined blocks.
class DspStream {
public:
    explicit DspStream(int sampleRate, int channels = 1, const DspOptions& options = {});
    ~DspStream();
    DspStream(DspStream&&) noexcept;
    DspStream& operator=(DspStream&&) noexcept;

    // `frames` interleaved frames of channels() samples. Throws AudioError for a non-finite
    // sample, naming its frame in the whole stream (and its channel when there are several).
    void push(const float* interleaved, size_t frames);
    // After the last push; throws AudioError when nothing was pushed. Call once.
    DspFeatures finish();

    int channels() const;
    int64_t framesPushed() const;
    size_t bufferedSamples() const;      // samples held right now (all channels)
    size_t peakBufferedSamples() const;  // the most held at once so far

private:
    struct State;
    std::unique_ptr<State> state_;
};

// Summary values, with "measured_at" (rate, channels) and "units" (key -> unit) beside them;
// the per-frame tracks (onset envelope, pitch, novelty) only when asked.
nlohmann::json toJson(const DspFeatures& features, bool includeFrameTracks = false);

}  // namespace grym::dsp
