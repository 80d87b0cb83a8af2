#include "audio/audio_ops.h"

#include "common/error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace grym {

void validateBuffer(const AudioBuffer& audio, const char* context) {
    if (audio.sampleRate <= 0)
        throw AudioError(std::string(context) + ": sample rate " + std::to_string(audio.sampleRate) + " is not positive");
    if (audio.channels <= 0)
        throw AudioError(std::string(context) + ": channel count " + std::to_string(audio.channels) + " is not positive");
    if (audio.samples.size() % audio.channels != 0)
        throw AudioError(std::string(context) + ": " + std::to_string(audio.samples.size()) +
                         " samples do not divide into " + std::to_string(audio.channels) + " channels");
}

AudioBuffer mixToMono(const AudioBuffer& audio) {
    validateBuffer(audio, "mix to mono");
    if (audio.channels == 1) return audio;
    AudioBuffer mono;
    mono.sampleRate = audio.sampleRate;
    mono.channels = 1;
    const int64_t frames = audio.frames();
    mono.samples.resize(static_cast<size_t>(frames));
    const double scale = 1.0 / audio.channels;
    for (int64_t f = 0; f < frames; ++f) {
        double sum = 0.0;
        for (int c = 0; c < audio.channels; ++c) sum += audio.sample(f, c);
        mono.samples[f] = static_cast<float>(sum * scale);
    }
    return mono;
}

float peakAmplitude(const AudioBuffer& audio) {
    float peak = 0.0f;
    for (float v : audio.samples) peak = std::max(peak, std::fabs(v));
    return peak;
}

double rmsLevel(const AudioBuffer& audio) {
    if (audio.samples.empty()) return 0.0;
    double sum = 0.0;
    for (float v : audio.samples) sum += static_cast<double>(v) * v;
    return std::sqrt(sum / audio.samples.size());
}

double amplitudeToDb(double amplitude) {
    return amplitude > 0 ? 20.0 * std::log10(amplitude) : -std::numeric_limits<double>::infinity();
}

double dbToAmplitude(double db) { return std::pow(10.0, db / 20.0); }

void normalizePeak(AudioBuffer& audio, double targetPeakDb) {
    if (!std::isfinite(targetPeakDb)) throw AudioError("normalize: target peak " + std::to_string(targetPeakDb) + " dB is not finite");
    const float peak = peakAmplitude(audio);
    if (peak <= 0.0f) return;
    const auto gain = static_cast<float>(dbToAmplitude(targetPeakDb) / peak);
    for (float& v : audio.samples) v *= gain;
}

AudioBuffer trimSeconds(const AudioBuffer& audio, double startSeconds, double endSeconds) {
    validateBuffer(audio, "trim");
    const int64_t frames = audio.frames();
    auto toFrame = [&](double seconds) {
        return std::clamp<int64_t>(static_cast<int64_t>(std::llround(seconds * audio.sampleRate)), 0, frames);
    };
    const int64_t first = toFrame(std::max(0.0, startSeconds));
    const int64_t last = endSeconds < 0 ? frames : toFrame(endSeconds);
    if (last < first)
        throw AudioError("trim: end " + std::to_string(endSeconds) + " s is before start " + std::to_string(startSeconds) + " s");
    AudioBuffer out;
    out.sampleRate = audio.sampleRate;
    out.channels = audio.channels;
    out.samples.assign(audio.samples.begin() + first * audio.channels, audio.samples.begin() + last * audio.channels);
    return out;
}

AudioBuffer trimSilence(const AudioBuffer& audio, double thresholdDb, double keepSeconds) {
    validateBuffer(audio, "trim silence");
    const auto threshold = static_cast<float>(dbToAmplitude(thresholdDb));
    const int64_t frames = audio.frames();
    auto loud = [&](int64_t f) {
        for (int c = 0; c < audio.channels; ++c)
            if (std::fabs(audio.sample(f, c)) >= threshold) return true;
        return false;
    };
    int64_t first = 0;
    while (first < frames && !loud(first)) ++first;
    int64_t last = frames;
    while (last > first && !loud(last - 1)) --last;
    if (first == last) return trimSeconds(audio, 0.0, 0.0);
    const double margin = std::max(0.0, keepSeconds);
    return trimSeconds(audio, static_cast<double>(first) / audio.sampleRate - margin,
                       static_cast<double>(last) / audio.sampleRate + margin);
}

}  // namespace grym
