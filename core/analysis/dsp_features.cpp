#include "analysis/dsp_features.h"

#include "analysis/dsp_fft.h"
#include "audio/audio_ops.h"
#include "common/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <string>

namespace grym::dsp {
namespace {

// Power of two nearest (in ratio) to 50 ms: 1024 at 16 kHz, 2048 at 44.1/48 kHz.
int chooseFrameLength(int sampleRate) {
    const double target = std::max(64.0, 0.05 * sampleRate);
    const auto above = static_cast<double>(nextPowerOfTwo(static_cast<size_t>(std::ceil(target))));
    return static_cast<int>(above / target <= target / (above / 2) ? above : above / 2);
}

double hzToMel(double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); }
double melToHz(double mel) { return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0); }

// Triangular filters equally spaced on the mel scale from 0 Hz to Nyquist.
struct MelFilter {
    size_t firstBin = 0;
    std::vector<double> weights;
};

std::vector<MelFilter> melFilterbank(int bands, int frameLength, int sampleRate) {
    const size_t bins = frameLength / 2 + 1;
    const double binHz = static_cast<double>(sampleRate) / frameLength;
    const double topMel = hzToMel(sampleRate / 2.0);
    std::vector<MelFilter> filters(bands);
    for (int b = 0; b < bands; ++b) {
        const double lo = melToHz(topMel * b / (bands + 1)), mid = melToHz(topMel * (b + 1) / (bands + 1)),
                     hi = melToHz(topMel * (b + 2) / (bands + 1));
        MelFilter& filter = filters[b];
        filter.firstBin = static_cast<size_t>(std::ceil(lo / binHz));
        for (size_t k = filter.firstBin; k < bins && k * binHz <= hi; ++k) {
            const double f = k * binHz;
            filter.weights.push_back(f <= mid ? (f - lo) / std::max(mid - lo, 1e-9) : (hi - f) / std::max(hi - mid, 1e-9));
        }
        // A band narrower than one bin still takes the bin nearest its centre.
        if (std::all_of(filter.weights.begin(), filter.weights.end(), [](double w) { return w <= 0; })) {
            filter.firstBin = std::min(bins - 1, static_cast<size_t>(std::lround(mid / binHz)));
            filter.weights.assign(1, 1.0);
        }
    }
    return filters;
}

double meanOver(const std::vector<float>& values, const std::vector<bool>& use) {
    double sum = 0;
    size_t count = 0;
    for (size_t i = 0; i < values.size(); ++i)
        if (use[i]) {
            sum += values[i];
            ++count;
        }
    return count ? sum / count : 0.0;
}

nlohmann::json finiteOrNull(double value) { return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(); }

}  // namespace

struct SpectralFrameAnalyzer::MelBand {
    size_t firstBin = 0;
    std::vector<double> weights;
};

SpectralFrameAnalyzer::SpectralFrameAnalyzer(int sampleRate, const DspOptions& options)
    : sampleRate_(sampleRate), options_(options), frameLength_(0) {
    if (sampleRate <= 0) throw AudioError("spectral analysis: sample rate " + std::to_string(sampleRate) + " is not positive");
    if (options.melBands < 1) throw AudioError("spectral analysis: melBands must be >= 1, got " + std::to_string(options.melBands));
    if (!(options.rolloffFraction > 0 && options.rolloffFraction <= 1))
        throw AudioError("spectral analysis: rolloffFraction " + std::to_string(options.rolloffFraction) + " is outside (0, 1]");
    frameLength_ = chooseFrameLength(sampleRate);
    fft_.emplace(frameLength_);
    window_ = hannWindow(frameLength_);
    double windowSum = 0;
    for (float w : window_) windowSum += w;
    powerScale_ = 1.0 / (windowSum * windowSum);  // a full-scale sine's bin -> 0.25
    for (const MelFilter& f : melFilterbank(options.melBands, frameLength_, sampleRate)) bands_.push_back({f.firstBin, f.weights});
    windowed_.resize(frameLength_);
}

SpectralFrameAnalyzer::~SpectralFrameAnalyzer() = default;

SpectralFrames SpectralFrameAnalyzer::emptyFrames() const {
    SpectralFrames out;
    out.frameLength = frameLength_;
    out.hop = hop();
    out.frameRate = static_cast<double>(sampleRate_) / out.hop;
    out.logMel = FeatureMatrix(0, options_.melBands);
    return out;
}

void SpectralFrameAnalyzer::measure(const float* const* channelFrames, size_t channels, SpectralFrames& out) {
    const size_t bins = frameLength_ / 2 + 1;
    const double binHz = static_cast<double>(sampleRate_) / frameLength_;
    double energy = 0;
    powerSum_.assign(bins, 0.0);
    for (size_t c = 0; c < channels; ++c) {
        const float* frame = channelFrames[c];
        for (int i = 0; i < frameLength_; ++i) {
            energy += static_cast<double>(frame[i]) * frame[i];
            windowed_[i] = frame[i] * window_[i];
        }
        fft_->powerSpectrum(windowed_.data(), windowed_.size(), power_);
        for (size_t k = 0; k < bins; ++k) powerSum_[k] += power_[k];
    }
    out.rms.push_back(static_cast<float>(std::sqrt(energy / (static_cast<double>(frameLength_) * static_cast<double>(channels)))));

    double magnitudeSum = 0, weightedSum = 0, logPowerSum = 0, powerSum = 0;
    for (size_t k = 0; k < bins; ++k) {
        const double p = powerSum_[k] * powerScale_;
        const double magnitude = std::sqrt(p);
        magnitudeSum += magnitude;
        weightedSum += magnitude * k * binHz;
        logPowerSum += std::log(std::max(p, 1e-10));
        powerSum += std::max(p, 1e-10);
    }
    out.centroidHz.push_back(magnitudeSum > 0 ? static_cast<float>(weightedSum / magnitudeSum) : 0.0f);
    out.flatness.push_back(static_cast<float>(std::exp(logPowerSum / bins) / (powerSum / bins)));
    double cumulative = 0, rolloff = 0;
    for (size_t k = 0; k < bins && magnitudeSum > 0; ++k) {
        cumulative += std::sqrt(powerSum_[k] * powerScale_);
        if (cumulative >= options_.rolloffFraction * magnitudeSum) {
            rolloff = k * binHz;
            break;
        }
    }
    out.rolloffHz.push_back(static_cast<float>(rolloff));

    for (const MelBand& band : bands_) {
        double bandEnergy = 0;
        for (size_t j = 0; j < band.weights.size(); ++j) bandEnergy += band.weights[j] * powerSum_[band.firstBin + j];
        out.logMel.values.push_back(static_cast<float>(10.0 * std::log10(std::max(bandEnergy * powerScale_, 1e-10))));
    }
    ++out.logMel.frames;
}

void computeOnsetStrength(SpectralFrames& out) {
    const FeatureMatrix& mel = out.logMel;
    const float loudest = mel.values.empty() ? 0.0f : *std::max_element(mel.values.begin(), mel.values.end());
    const float floorDb = loudest - 80.0f;
    out.onsetStrength.assign(mel.frames, 0.0f);
    for (size_t t = 1; t < mel.frames; ++t) {
        double rise = 0;
        for (size_t b = 0; b < mel.dims; ++b) rise += std::max(0.0f, std::max(mel.row(t)[b], floorDb) - std::max(mel.row(t - 1)[b], floorDb));
        out.onsetStrength[t] = static_cast<float>(rise / static_cast<double>(mel.dims));
    }
}

SpectralFrames analyseSpectra(const std::vector<float>& mono, int sampleRate, const DspOptions& options) {
    SpectralFrameAnalyzer analyzer(sampleRate, options);
    SpectralFrames out = analyzer.emptyFrames();
    const size_t frameCount = mono.size() / out.hop + 1;
    std::vector<float> frame(out.frameLength);
    const float* frames[] = {frame.data()};
    for (size_t t = 0; t < frameCount; ++t) {
        // Frame t is centred on sample t * hop; samples outside the signal are zero.
        const long start = static_cast<long>(t * out.hop) - out.frameLength / 2;
        for (int i = 0; i < out.frameLength; ++i) {
            const long at = start + i;
            frame[i] = (at >= 0 && at < static_cast<long>(mono.size())) ? mono[at] : 0.0f;
        }
        analyzer.measure(frames, 1, out);
    }
    computeOnsetStrength(out);
    return out;
}

struct DspStream::State {
    int sampleRate;
    size_t channels;
    DspOptions options;
    SpectralFrameAnalyzer spectral;
    PitchTracker pitch;
    OnsetDetector onsets;
    SilenceFraming silence;
    LoudnessMeter loudness;

    std::vector<std::vector<float>> buffers;  // per channel: frames [bufferStart, total)
    int64_t bufferStart = 0, total = 0;
    size_t peakBuffered = 0;
    std::vector<double> peak, energy;
    std::vector<int64_t> signChanges;
    std::vector<float> previous;
    std::vector<float> mono;  // the channels' average of the block being pushed (for aubio)
    bool finished = false;

    SpectralFrames spectra;
    int64_t nextSpectralFrame = 0;
    std::vector<std::vector<float>> frames;
    std::vector<const float*> framePointers;
    std::vector<double> silenceLevels;
    int64_t nextSilenceStart = 0;

    State(int rate, int channelCount, const DspOptions& o)
        : sampleRate(rate), channels(static_cast<size_t>(channelCount)), options(o), spectral(rate, o), pitch(rate, o.pitch),
          onsets(rate, o.onsets), silence(silenceFraming(rate, o.silence)), loudness(rate, channelCount),
          buffers(channels), peak(channels, 0.0), energy(channels, 0.0), signChanges(channels, 0), previous(channels, 0.0f),
          spectra(spectral.emptyFrames()), frames(channels, std::vector<float>(static_cast<size_t>(spectral.frameLength()))) {
        for (const auto& f : frames) framePointers.push_back(f.data());
    }

    int64_t spectralStart(int64_t t) const { return t * spectral.hop() - spectral.frameLength() / 2; }
    size_t heldSamples() const { return buffers[0].size() * channels; }

    // Frame t of the spectra from the held samples; zeros outside the signal.
    void measureSpectralFrame(int64_t t) {
        const int64_t start = spectralStart(t);
        for (size_t c = 0; c < channels; ++c)
            for (int i = 0; i < spectral.frameLength(); ++i) {
                const int64_t at = start + i;
                frames[c][static_cast<size_t>(i)] = (at >= 0 && at < total) ? buffers[c][static_cast<size_t>(at - bufferStart)] : 0.0f;
            }
        spectral.measure(framePointers.data(), channels, spectra);
    }

    // The level of a frame with several channels is that of their mean power.
    void measureSilenceFrame() {
        const int64_t end = std::min<int64_t>(total, nextSilenceStart + static_cast<int64_t>(silence.frame));
        const auto count = static_cast<size_t>(end - nextSilenceStart);
        double power = 0;
        for (size_t c = 0; c < channels; ++c)
            power += std::pow(10.0, frameLevelDb(buffers[c].data() + (nextSilenceStart - bufferStart), count) / 10.0);
        silenceLevels.push_back(10.0 * std::log10(std::max(power / static_cast<double>(channels), 1e-40)));
        nextSilenceStart += static_cast<int64_t>(silence.hop);
    }

    // Every frame whose samples are all in, then drop the samples no frame needs any more.
    void measureCompleteFrames() {
        while (spectralStart(nextSpectralFrame) + spectral.frameLength() <= total) measureSpectralFrame(nextSpectralFrame++);
        while (nextSilenceStart + static_cast<int64_t>(silence.frame) <= total) measureSilenceFrame();
        const int64_t keepFrom = std::min({std::max<int64_t>(0, spectralStart(nextSpectralFrame)), nextSilenceStart, total});
        if (keepFrom > bufferStart) {
            for (auto& b : buffers) b.erase(b.begin(), b.begin() + (keepFrom - bufferStart));
            bufferStart = keepFrom;
        }
    }
};

DspStream::DspStream(int sampleRate, int channels, const DspOptions& options) {
    if (sampleRate <= 0) throw AudioError("DSP features: sample rate " + std::to_string(sampleRate) + " is not positive");
    if (channels < 1) throw AudioError("DSP features: channel count " + std::to_string(channels) + " is not positive");
    state_ = std::make_unique<State>(sampleRate, channels, options);
}

DspStream::~DspStream() = default;
DspStream::DspStream(DspStream&&) noexcept = default;
DspStream& DspStream::operator=(DspStream&&) noexcept = default;

int DspStream::channels() const { return static_cast<int>(state_->channels); }
int64_t DspStream::framesPushed() const { return state_->total; }
size_t DspStream::bufferedSamples() const { return state_->heldSamples(); }
size_t DspStream::peakBufferedSamples() const { return state_->peakBuffered; }

void DspStream::push(const float* interleaved, size_t frameCount) {
    State& s = *state_;
    if (s.finished) throw AudioError("DSP features: the stream was already finished");
    const size_t channels = s.channels;
    for (size_t i = 0; i < frameCount * channels; ++i)
        if (!std::isfinite(interleaved[i])) {
            const std::string frame = std::to_string(s.total + static_cast<int64_t>(i / channels));
            throw AudioError("DSP features: sample " + frame + (channels > 1 ? " of channel " + std::to_string(i % channels) : "") +
                             " is not finite");
        }
    s.mono.assign(frameCount, 0.0f);
    for (size_t c = 0; c < channels; ++c) {
        std::vector<float>& buffer = s.buffers[c];
        for (size_t i = 0; i < frameCount; ++i) {
            const float v = interleaved[i * channels + c];
            s.peak[c] = std::max(s.peak[c], static_cast<double>(std::fabs(v)));
            s.energy[c] += static_cast<double>(v) * v;
            if (s.total + static_cast<int64_t>(i) > 0 && (s.previous[c] < 0) != (v < 0)) ++s.signChanges[c];
            s.previous[c] = v;
            buffer.push_back(v);
            s.mono[i] += v;
        }
    }
    if (channels > 1)
        for (float& v : s.mono) v /= static_cast<float>(channels);
    s.loudness.add(interleaved, frameCount);
    s.pitch.push(s.mono.data(), frameCount);
    s.onsets.push(s.mono.data(), frameCount);
    s.total += static_cast<int64_t>(frameCount);
    const size_t aubioHeld = s.pitch.heldSamples() + s.onsets.heldSamples();
    s.peakBuffered = std::max(s.peakBuffered, s.heldSamples() + s.mono.size() + aubioHeld);
    s.measureCompleteFrames();
}

DspFeatures DspStream::finish() {
    State& s = *state_;
    if (s.finished) throw AudioError("DSP features: the stream was already finished");
    if (s.total == 0) throw AudioError("DSP features: the audio is empty");
    s.finished = true;
    // The frames that reach past the end: spectra up to the one centred on the last sample
    // boundary, silence frames cut short.
    while (s.nextSpectralFrame * s.spectral.hop() <= s.total) s.measureSpectralFrame(s.nextSpectralFrame++);
    while (s.nextSilenceStart < s.total) s.measureSilenceFrame();

    DspFeatures f;
    f.sampleRate = s.sampleRate;
    f.channels = static_cast<int>(s.channels);
    f.durationSeconds = static_cast<double>(s.total) / s.sampleRate;
    double energy = 0, crossings = 0;
    for (size_t c = 0; c < s.channels; ++c) {
        f.channelLevels.push_back({s.peak[c], std::sqrt(s.energy[c] / static_cast<double>(s.total))});
        f.peak = std::max(f.peak, s.peak[c]);
        energy += s.energy[c];
        crossings += s.total > 1 ? static_cast<double>(s.signChanges[c]) / static_cast<double>(s.total - 1) : 0.0;
    }
    f.rms = std::sqrt(energy / (static_cast<double>(s.total) * static_cast<double>(s.channels)));
    f.zeroCrossingRate = crossings / static_cast<double>(s.channels);
    f.loudness = s.loudness.result();

    SpectralFrames& spectra = s.spectra;
    computeOnsetStrength(spectra);
    std::vector<bool> active(spectra.rms.size());
    const double floorAmplitude = dbToAmplitude(s.options.activeFloorDb);
    for (size_t t = 0; t < active.size(); ++t) active[t] = spectra.rms[t] >= floorAmplitude;
    f.spectralCentroidHz = meanOver(spectra.centroidHz, active);
    f.spectralRolloffHz = meanOver(spectra.rolloffHz, active);
    f.spectralFlatness = meanOver(spectra.flatness, active);

    f.onsets = s.onsets.finish();
    f.tempo = estimateTempo(spectra.onsetStrength, spectra.frameRate, s.options.tempo);
    f.pitch = s.pitch.finish();
    f.silentRegions = silentRegionsFromLevels(s.silenceLevels, s.total, s.sampleRate, s.options.silence);
    f.segments = segmentBySelfSimilarity(spectra.logMel, spectra.frameRate, s.options.segments);
    f.spectralFrameRate = spectra.frameRate;
    f.logMel = std::move(spectra.logMel);
    s.buffers.assign(s.channels, {});
    return f;
}

DspFeatures computeDspFeatures(const std::vector<float>& mono, int sampleRate, const DspOptions& options) {
    DspStream stream(sampleRate, 1, options);
    // Pushed in pieces so the stream's own buffer stays small.
    constexpr size_t kPiece = 1 << 16;
    for (size_t at = 0; at < mono.size(); at += kPiece) stream.push(mono.data() + at, std::min(kPiece, mono.size() - at));
    return stream.finish();
}

DspFeatures computeDspFeatures(const AudioBuffer& audio, const DspOptions& options) {
    DspStream stream(audio.sampleRate, audio.channels, options);
    constexpr int64_t kPieceFrames = 1 << 16;
    const auto channels = static_cast<size_t>(std::max(1, audio.channels));
    for (int64_t at = 0; at < audio.frames(); at += kPieceFrames)
        stream.push(audio.samples.data() + static_cast<size_t>(at) * channels, static_cast<size_t>(std::min(kPieceFrames, audio.frames() - at)));
    return stream.finish();
}

nlohmann::json toJson(const DspFeatures& f, bool includeFrameTracks) {
    nlohmann::json silent = nlohmann::json::array();
    for (const auto& r : f.silentRegions) silent.push_back({{"start", r.start}, {"end", r.end}});
    const std::string rate = std::to_string(f.sampleRate) + " Hz";
    nlohmann::json j = {
        {"measured_at",
         {{"sample_rate_hz", f.sampleRate},
          {"channels", f.channels},
          {"loudness", "libebur128, ITU-R BS.1770-4 over all channels at " + rate},
          {"spectrum", "FFTW, channels' power spectra summed, 0 Hz to " + std::to_string(f.sampleRate / 2) + " Hz"},
          {"pitch_onsets", "aubio, on the channels' average at " + rate},
          {"tempo", "autocorrelation of the log-mel onset strength, all channels"}}},
        {"sample_rate", f.sampleRate},
        {"channels", f.channels},
        {"duration_s", f.durationSeconds},
        {"peak", f.peak},
        {"peak_dbfs", finiteOrNull(amplitudeToDb(f.peak))},
        {"rms", f.rms},
        {"rms_dbfs", finiteOrNull(amplitudeToDb(f.rms))},
        {"loudness_lufs", finiteOrNull(f.loudness.integratedLufs)},
        {"short_term_max_lufs", finiteOrNull(f.loudness.shortTermMaxLufs)},
        {"loudness_range_lu", f.loudness.loudnessRangeLu},
        {"true_peak_dbtp", finiteOrNull(f.loudness.truePeakDbtp)},
        {"spectral_centroid_hz", f.spectralCentroidHz},
        {"spectral_rolloff_hz", f.spectralRolloffHz},
        {"spectral_flatness", f.spectralFlatness},
        {"zero_crossing_rate", f.zeroCrossingRate},
        {"tempo_bpm", f.tempo.bpm > 0 ? nlohmann::json(f.tempo.bpm) : nlohmann::json()},
        {"tempo_confidence", f.tempo.confidence},
        {"onset_count", f.onsets.times.size()},
        {"onsets_s", f.onsets.times},
        {"pitch_hz", f.pitch.medianFrequency > 0 ? nlohmann::json(f.pitch.medianFrequency) : nlohmann::json()},
        {"pitch_mean_hz", f.pitch.meanFrequency > 0 ? nlohmann::json(f.pitch.meanFrequency) : nlohmann::json()},
        {"voiced_ratio", f.pitch.voicedRatio},
        {"silent_regions", silent},
        {"segment_boundaries_s", f.segments.boundaries},
    };
    nlohmann::json channels = nlohmann::json::object();
    for (size_t c = 0; c < f.channelLevels.size(); ++c)
        channels["channel_" + std::to_string(c + 1)] = {{"peak_dbfs", finiteOrNull(amplitudeToDb(f.channelLevels[c].peak))},
                                                         {"rms_dbfs", finiteOrNull(amplitudeToDb(f.channelLevels[c].rms))},
                                                         {"units", {{"peak_dbfs", "dBFS"}, {"rms_dbfs", "dBFS"}}}};
    j["channel_levels"] = channels;
    // Every number's unit, by key (ratios and counts have none).
    j["units"] = {{"sample_rate", "Hz"},           {"duration_s", "s"},          {"peak", "FS"},
                  {"peak_dbfs", "dBFS"},           {"rms", "FS"},                {"rms_dbfs", "dBFS"},
                  {"loudness_lufs", "LUFS"},       {"short_term_max_lufs", "LUFS"}, {"loudness_range_lu", "LU"},
                  {"true_peak_dbtp", "dBTP"},      {"spectral_centroid_hz", "Hz"}, {"spectral_rolloff_hz", "Hz"},
                  {"zero_crossing_rate", "/sample"}, {"tempo_bpm", "BPM"},       {"onsets_s", "s"},
                  {"pitch_hz", "Hz"},              {"pitch_mean_hz", "Hz"},      {"segment_boundaries_s", "s"}};
    j["measured_at"]["units"] = {{"sample_rate_hz", "Hz"}};
    if (includeFrameTracks) {
        j["onset_envelope"] = {{"rate_hz", f.onsets.frameRate}, {"values", f.onsets.envelope}};
        j["pitch_track"] = {{"rate_hz", f.pitch.hopSeconds > 0 ? 1.0 / f.pitch.hopSeconds : 0.0}, {"values", f.pitch.frequencies}};
        j["novelty"] = {{"rate_hz", f.segments.noveltyRate}, {"values", f.segments.novelty}};
    }
    return j;
}

}  // namespace grym::dsp
