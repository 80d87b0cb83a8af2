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

void SpectralFrameAnalyzer::measure(const float* frame, SpectralFrames& out) {
    const size_t bins = frameLength_ / 2 + 1;
    const double binHz = static_cast<double>(sampleRate_) / frameLength_;
    double energy = 0;
    for (int i = 0; i < frameLength_; ++i) {
        energy += static_cast<double>(frame[i]) * frame[i];
        windowed_[i] = frame[i] * window_[i];
    }
    out.rms.push_back(static_cast<float>(std::sqrt(energy / frameLength_)));
    fft_->powerSpectrum(windowed_.data(), windowed_.size(), power_);

    double magnitudeSum = 0, weightedSum = 0, logPowerSum = 0, powerSum = 0;
    for (size_t k = 0; k < bins; ++k) {
        const double p = power_[k] * powerScale_;
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
        cumulative += std::sqrt(power_[k] * powerScale_);
        if (cumulative >= options_.rolloffFraction * magnitudeSum) {
            rolloff = k * binHz;
            break;
        }
    }
    out.rolloffHz.push_back(static_cast<float>(rolloff));

    for (const MelBand& band : bands_) {
        double bandEnergy = 0;
        for (size_t j = 0; j < band.weights.size(); ++j) bandEnergy += band.weights[j] * power_[band.firstBin + j];
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
    for (size_t t = 0; t < frameCount; ++t) {
        // Frame t is centred on sample t * hop; samples outside the signal are zero.
        const long start = static_cast<long>(t * out.hop) - out.frameLength / 2;
        for (int i = 0; i < out.frameLength; ++i) {
            const long at = start + i;
            frame[i] = (at >= 0 && at < static_cast<long>(mono.size())) ? mono[at] : 0.0f;
        }
        analyzer.measure(frame.data(), out);
    }
    computeOnsetStrength(out);
    return out;
}

struct DspStream::State {
    int sampleRate;
    DspOptions options;
    SpectralFrameAnalyzer spectral;
    YinPitchDetector pitch;
    SilenceFraming silence;
    LoudnessMeter loudness;

    std::vector<float> buffer;  // samples [bufferStart, total)
    int64_t bufferStart = 0, total = 0;
    size_t peakBuffered = 0;
    double peak = 0, energy = 0;
    int64_t signChanges = 0;
    float previous = 0;
    bool finished = false;

    SpectralFrames spectra;
    int64_t nextSpectralFrame = 0;
    std::vector<float> frame;
    PitchTrack pitchTrack;
    int64_t nextPitchStart = 0;
    std::vector<double> silenceLevels;
    int64_t nextSilenceStart = 0;

    static PitchOptions pitchOptionsFor(int rate, PitchOptions p) {
        p.maxFrequency = std::min(p.maxFrequency, 0.45 * rate);
        return p;
    }
    State(int rate, const DspOptions& o)
        : sampleRate(rate), options(o), spectral(rate, o), pitch(rate, pitchOptionsFor(rate, o.pitch)),
          silence(silenceFraming(rate, o.silence)), loudness(rate), spectra(spectral.emptyFrames()),
          frame(static_cast<size_t>(spectral.frameLength())) {
        pitchTrack.hopSeconds = static_cast<double>(pitch.hop()) / rate;
    }

    int64_t spectralStart(int64_t t) const { return t * spectral.hop() - spectral.frameLength() / 2; }

    // Frame t of the spectra from the held samples; zeros outside the signal.
    void measureSpectralFrame(int64_t t) {
        const int64_t start = spectralStart(t);
        for (int i = 0; i < spectral.frameLength(); ++i) {
            const int64_t at = start + i;
            frame[static_cast<size_t>(i)] = (at >= 0 && at < total) ? buffer[static_cast<size_t>(at - bufferStart)] : 0.0f;
        }
        spectral.measure(frame.data(), spectra);
    }

    void measureSilenceFrame() {
        const int64_t end = std::min<int64_t>(total, nextSilenceStart + static_cast<int64_t>(silence.frame));
        silenceLevels.push_back(frameLevelDb(buffer.data() + (nextSilenceStart - bufferStart), static_cast<size_t>(end - nextSilenceStart)));
        nextSilenceStart += static_cast<int64_t>(silence.hop);
    }

    // Every frame whose samples are all in, then drop the samples no frame needs any more.
    void measureCompleteFrames() {
        while (spectralStart(nextSpectralFrame) + spectral.frameLength() <= total) measureSpectralFrame(nextSpectralFrame++);
        while (nextPitchStart + static_cast<int64_t>(pitch.span()) <= total) {
            pitch.appendFrame(buffer.data() + (nextPitchStart - bufferStart), pitchTrack);
            nextPitchStart += static_cast<int64_t>(pitch.hop());
        }
        while (nextSilenceStart + static_cast<int64_t>(silence.frame) <= total) measureSilenceFrame();
        const int64_t keepFrom =
            std::min({std::max<int64_t>(0, spectralStart(nextSpectralFrame)), nextPitchStart, nextSilenceStart, total});
        if (keepFrom > bufferStart) {
            buffer.erase(buffer.begin(), buffer.begin() + (keepFrom - bufferStart));
            bufferStart = keepFrom;
        }
    }
};

DspStream::DspStream(int sampleRate, const DspOptions& options) {
    if (sampleRate <= 0) throw AudioError("DSP features: sample rate " + std::to_string(sampleRate) + " is not positive");
    state_ = std::make_unique<State>(sampleRate, options);
}

DspStream::~DspStream() = default;
DspStream::DspStream(DspStream&&) noexcept = default;
DspStream& DspStream::operator=(DspStream&&) noexcept = default;

int64_t DspStream::samplesPushed() const { return state_->total; }
size_t DspStream::bufferedSamples() const { return state_->buffer.size(); }
size_t DspStream::peakBufferedSamples() const { return state_->peakBuffered; }

void DspStream::push(const float* samples, size_t count) {
    State& s = *state_;
    if (s.finished) throw AudioError("DSP features: the stream was already finished");
    for (size_t i = 0; i < count; ++i) {
        const float v = samples[i];
        if (!std::isfinite(v)) throw AudioError("DSP features: sample " + std::to_string(s.total + static_cast<int64_t>(i)) + " is not finite");
        s.peak = std::max(s.peak, static_cast<double>(std::fabs(v)));
        s.energy += static_cast<double>(v) * v;
        if (s.total + static_cast<int64_t>(i) > 0 && (s.previous < 0) != (v < 0)) ++s.signChanges;
        s.previous = v;
    }
    s.loudness.add(samples, count);
    s.buffer.insert(s.buffer.end(), samples, samples + count);
    s.total += static_cast<int64_t>(count);
    s.peakBuffered = std::max(s.peakBuffered, s.buffer.size());
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
    f.durationSeconds = static_cast<double>(s.total) / s.sampleRate;
    f.peak = s.peak;
    f.rms = std::sqrt(s.energy / static_cast<double>(s.total));
    f.zeroCrossingRate = s.total > 1 ? static_cast<double>(s.signChanges) / static_cast<double>(s.total - 1) : 0.0;
    f.loudness = s.loudness.result();

    SpectralFrames& spectra = s.spectra;
    computeOnsetStrength(spectra);
    std::vector<bool> active(spectra.rms.size());
    const double floorAmplitude = dbToAmplitude(s.options.activeFloorDb);
    for (size_t t = 0; t < active.size(); ++t) active[t] = spectra.rms[t] >= floorAmplitude;
    f.spectralCentroidHz = meanOver(spectra.centroidHz, active);
    f.spectralRolloffHz = meanOver(spectra.rolloffHz, active);
    f.spectralFlatness = meanOver(spectra.flatness, active);

    f.onsetFrameRate = spectra.frameRate;
    f.onsetEnvelope = std::move(spectra.onsetStrength);
    f.onsetTimes = pickOnsets(f.onsetEnvelope, f.onsetFrameRate, s.options.onsets);
    f.tempo = estimateTempo(f.onsetEnvelope, f.onsetFrameRate, s.options.tempo);

    f.pitch = std::move(s.pitchTrack);
    YinPitchDetector::summarise(f.pitch);
    f.silentRegions = silentRegionsFromLevels(s.silenceLevels, s.total, s.sampleRate, s.options.silence);
    f.segments = segmentBySelfSimilarity(spectra.logMel, spectra.frameRate, s.options.segments);
    f.logMel = std::move(spectra.logMel);
    s.buffer = {};
    return f;
}

DspFeatures computeDspFeatures(const std::vector<float>& mono, int sampleRate, const DspOptions& options) {
    DspStream stream(sampleRate, options);
    // Pushed in pieces so the stream's own buffer stays small.
    constexpr size_t kPiece = 1 << 16;
    for (size_t at = 0; at < mono.size(); at += kPiece) stream.push(mono.data() + at, std::min(kPiece, mono.size() - at));
    return stream.finish();
}

DspFeatures computeDspFeatures(const AudioBuffer& audio, const DspOptions& options) {
    return computeDspFeatures(mixToMono(audio).samples, audio.sampleRate, options);
}

nlohmann::json toJson(const DspFeatures& f, bool includeFrameTracks) {
    nlohmann::json silent = nlohmann::json::array();
    for (const auto& r : f.silentRegions) silent.push_back({{"start", r.start}, {"end", r.end}});
    nlohmann::json j = {
        {"sample_rate", f.sampleRate},
        {"duration_s", f.durationSeconds},
        {"peak", f.peak},
        {"peak_dbfs", finiteOrNull(amplitudeToDb(f.peak))},
        {"rms", f.rms},
        {"rms_dbfs", finiteOrNull(amplitudeToDb(f.rms))},
        {"loudness_lufs", finiteOrNull(f.loudness.integratedLufs)},
        {"spectral_centroid_hz", f.spectralCentroidHz},
        {"spectral_rolloff_hz", f.spectralRolloffHz},
        {"spectral_flatness", f.spectralFlatness},
        {"zero_crossing_rate", f.zeroCrossingRate},
        {"tempo_bpm", f.tempo.bpm > 0 ? nlohmann::json(f.tempo.bpm) : nlohmann::json()},
        {"tempo_confidence", f.tempo.confidence},
        {"onset_count", f.onsetTimes.size()},
        {"onsets_s", f.onsetTimes},
        {"pitch_hz", f.pitch.medianFrequency > 0 ? nlohmann::json(f.pitch.medianFrequency) : nlohmann::json()},
        {"pitch_mean_hz", f.pitch.meanFrequency > 0 ? nlohmann::json(f.pitch.meanFrequency) : nlohmann::json()},
        {"voiced_ratio", f.pitch.voicedRatio},
        {"silent_regions", silent},
        {"segment_boundaries_s", f.segments.boundaries},
    };
    if (includeFrameTracks) {
        j["onset_envelope"] = {{"rate_hz", f.onsetFrameRate}, {"values", f.onsetEnvelope}};
        j["pitch_track"] = {{"rate_hz", f.pitch.hopSeconds > 0 ? 1.0 / f.pitch.hopSeconds : 0.0}, {"values", f.pitch.frequencies}};
        j["novelty"] = {{"rate_hz", f.segments.noveltyRate}, {"values", f.segments.novelty}};
    }
    return j;
}

}  // namespace grym::dsp
