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

SpectralFrames analyseSpectra(const std::vector<float>& mono, int sampleRate, const DspOptions& options) {
    if (sampleRate <= 0) throw AudioError("spectral analysis: sample rate " + std::to_string(sampleRate) + " is not positive");
    if (options.melBands < 1) throw AudioError("spectral analysis: melBands must be >= 1, got " + std::to_string(options.melBands));
    if (!(options.rolloffFraction > 0 && options.rolloffFraction <= 1))
        throw AudioError("spectral analysis: rolloffFraction " + std::to_string(options.rolloffFraction) + " is outside (0, 1]");
    SpectralFrames out;
    out.frameLength = chooseFrameLength(sampleRate);
    out.hop = out.frameLength / 4;
    out.frameRate = static_cast<double>(sampleRate) / out.hop;
    const size_t frameCount = mono.size() / out.hop + 1;
    const size_t bins = out.frameLength / 2 + 1;
    const double binHz = static_cast<double>(sampleRate) / out.frameLength;

    Fft fft(out.frameLength);
    const std::vector<float> window = hannWindow(out.frameLength);
    double windowSum = 0;
    for (float w : window) windowSum += w;
    const double powerScale = 1.0 / (windowSum * windowSum);  // a full-scale sine's bin -> 0.25
    const auto filters = melFilterbank(options.melBands, out.frameLength, sampleRate);

    out.logMel = FeatureMatrix(frameCount, options.melBands);
    std::vector<float> frame(out.frameLength);
    std::vector<double> power;
    for (size_t t = 0; t < frameCount; ++t) {
        // Frame t is centred on sample t * hop; samples outside the signal are zero.
        const long start = static_cast<long>(t * out.hop) - out.frameLength / 2;
        double energy = 0;
        for (int i = 0; i < out.frameLength; ++i) {
            const long at = start + i;
            const float v = (at >= 0 && at < static_cast<long>(mono.size())) ? mono[at] : 0.0f;
            energy += static_cast<double>(v) * v;
            frame[i] = v * window[i];
        }
        out.rms.push_back(static_cast<float>(std::sqrt(energy / out.frameLength)));
        fft.powerSpectrum(frame.data(), frame.size(), power);

        double magnitudeSum = 0, weightedSum = 0, logPowerSum = 0, powerSum = 0;
        for (size_t k = 0; k < bins; ++k) {
            const double p = power[k] * powerScale;
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
            cumulative += std::sqrt(power[k] * powerScale);
            if (cumulative >= options.rolloffFraction * magnitudeSum) {
                rolloff = k * binHz;
                break;
            }
        }
        out.rolloffHz.push_back(static_cast<float>(rolloff));

        float* mel = out.logMel.row(t);
        for (int b = 0; b < options.melBands; ++b) {
            double bandEnergy = 0;
            for (size_t j = 0; j < filters[b].weights.size(); ++j) bandEnergy += filters[b].weights[j] * power[filters[b].firstBin + j];
            mel[b] = static_cast<float>(10.0 * std::log10(std::max(bandEnergy * powerScale, 1e-10)));
        }
    }

    // Onset strength: how much the log-mel spectrum rose since the previous frame, with
    // anything 80 dB below the loudest band floored so noise in the quiet parts is ignored.
    const float loudest = out.logMel.values.empty() ? 0.0f : *std::max_element(out.logMel.values.begin(), out.logMel.values.end());
    const float floorDb = loudest - 80.0f;
    out.onsetStrength.assign(frameCount, 0.0f);
    for (size_t t = 1; t < frameCount; ++t) {
        double rise = 0;
        for (int b = 0; b < options.melBands; ++b)
            rise += std::max(0.0f, std::max(out.logMel.row(t)[b], floorDb) - std::max(out.logMel.row(t - 1)[b], floorDb));
        out.onsetStrength[t] = static_cast<float>(rise / options.melBands);
    }
    return out;
}

DspFeatures computeDspFeatures(const std::vector<float>& mono, int sampleRate, const DspOptions& options) {
    if (sampleRate <= 0) throw AudioError("DSP features: sample rate " + std::to_string(sampleRate) + " is not positive");
    if (mono.empty()) throw AudioError("DSP features: the audio is empty");
    DspFeatures f;
    f.sampleRate = sampleRate;
    f.durationSeconds = static_cast<double>(mono.size()) / sampleRate;
    double energy = 0;
    size_t signChanges = 0;
    for (size_t i = 0; i < mono.size(); ++i) {
        const float v = mono[i];
        if (!std::isfinite(v)) throw AudioError("DSP features: sample " + std::to_string(i) + " is not finite");
        f.peak = std::max(f.peak, static_cast<double>(std::fabs(v)));
        energy += static_cast<double>(v) * v;
        if (i > 0 && (mono[i - 1] < 0) != (v < 0)) ++signChanges;
    }
    f.rms = std::sqrt(energy / mono.size());
    f.zeroCrossingRate = mono.size() > 1 ? static_cast<double>(signChanges) / (mono.size() - 1) : 0.0;
    f.loudness = integratedLoudness(mono, sampleRate);

    const SpectralFrames spectra = analyseSpectra(mono, sampleRate, options);
    std::vector<bool> active(spectra.rms.size());
    const double floorAmplitude = dbToAmplitude(options.activeFloorDb);
    for (size_t t = 0; t < active.size(); ++t) active[t] = spectra.rms[t] >= floorAmplitude;
    f.spectralCentroidHz = meanOver(spectra.centroidHz, active);
    f.spectralRolloffHz = meanOver(spectra.rolloffHz, active);
    f.spectralFlatness = meanOver(spectra.flatness, active);

    f.onsetFrameRate = spectra.frameRate;
    f.onsetEnvelope = spectra.onsetStrength;
    f.onsetTimes = pickOnsets(f.onsetEnvelope, f.onsetFrameRate, options.onsets);
    f.tempo = estimateTempo(f.onsetEnvelope, f.onsetFrameRate, options.tempo);

    PitchOptions pitchOptions = options.pitch;
    pitchOptions.maxFrequency = std::min(pitchOptions.maxFrequency, 0.45 * sampleRate);
    f.pitch = estimatePitch(mono, sampleRate, pitchOptions);
    f.silentRegions = findSilentRegions(mono, sampleRate, options.silence);
    f.segments = segmentBySelfSimilarity(spectra.logMel, spectra.frameRate, options.segments);
    return f;
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
