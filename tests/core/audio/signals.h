#pragma once
// Test signals and measurements shared by the audio tests.
#include "audio/audio_buffer.h"

#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>

namespace grym::test {

inline AudioBuffer makeSine(double frequency, double seconds, int sampleRate, int channels = 1, double amplitude = 0.5) {
    AudioBuffer audio;
    audio.sampleRate = sampleRate;
    audio.channels = channels;
    const auto frames = static_cast<int64_t>(std::llround(seconds * sampleRate));
    audio.samples.resize(static_cast<size_t>(frames * channels));
    for (int64_t f = 0; f < frames; ++f) {
        const double v = amplitude * std::sin(2.0 * M_PI * frequency * f / sampleRate);
        for (int c = 0; c < channels; ++c) audio.samples[f * channels + c] = static_cast<float>(v);
    }
    return audio;
}

inline AudioBuffer makeNoise(double seconds, int sampleRate, int channels = 1, double amplitude = 0.3, unsigned seed = 7) {
    AudioBuffer audio;
    audio.sampleRate = sampleRate;
    audio.channels = channels;
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(static_cast<float>(-amplitude), static_cast<float>(amplitude));
    audio.samples.resize(static_cast<size_t>(std::llround(seconds * sampleRate)) * channels);
    for (float& v : audio.samples) v = dist(rng);
    return audio;
}

inline AudioBuffer makeSilence(double seconds, int sampleRate, int channels = 1) {
    AudioBuffer audio;
    audio.sampleRate = sampleRate;
    audio.channels = channels;
    audio.samples.assign(static_cast<size_t>(std::llround(seconds * sampleRate)) * channels, 0.0f);
    return audio;
}

// Frequency of a mono tone from its upward zero crossings between frames [begin, end),
// interpolating each crossing's position between samples.
inline double measureFrequency(const AudioBuffer& audio, int64_t begin, int64_t end) {
    double first = -1, last = -1;
    int crossings = 0;
    for (int64_t i = begin + 1; i < end; ++i) {
        const float a = audio.samples[i - 1], b = audio.samples[i];
        if (a < 0 && b >= 0) {
            const double at = (i - 1) + a / (a - b);
            if (first < 0) first = at;
            last = at;
            ++crossings;
        }
    }
    if (crossings < 2) return 0.0;
    return (crossings - 1) * audio.sampleRate / (last - first);
}

// measureFrequency's relative resolution: each interpolated crossing lies between the two
// samples the tone crosses zero between, so within a sample of the true one, and the first
// and last crossings lie at least (end - begin) - 2 periods apart.
inline double crossingFrequencyBound(int64_t begin, int64_t end, double frequency, int sampleRate) {
    return 2.0 / (static_cast<double>(end - begin) - 2.0 * sampleRate / frequency);
}

inline double rmsOf(const AudioBuffer& audio, int64_t begin, int64_t end) {
    double sum = 0;
    for (int64_t i = begin; i < end; ++i) sum += static_cast<double>(audio.samples[i]) * audio.samples[i];
    return std::sqrt(sum / std::max<int64_t>(1, end - begin));
}

// A folder private to this process (ctest runs test cases in parallel), removed afterwards.
class ScratchDir {
public:
    explicit ScratchDir(const std::string& name)
        : path_(std::filesystem::temp_directory_path() / (name + "_" + std::to_string(getpid()))) {
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~ScratchDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    std::string file(const std::string& name) const { return (path_ / name).string(); }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace grym::test
