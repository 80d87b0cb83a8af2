#pragma once
// Signals for the DSP tests.
#include <cmath>
#include <random>
#include <vector>

namespace grym::test {

inline std::vector<float> sine(double frequency, double seconds, int sampleRate, double amplitude = 1.0) {
    std::vector<float> out(static_cast<size_t>(std::llround(seconds * sampleRate)));
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(amplitude * std::sin(2 * M_PI * frequency * i / sampleRate));
    return out;
}

inline std::vector<float> whiteNoise(double seconds, int sampleRate, double amplitude = 0.5, unsigned seed = 11) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> dist(static_cast<float>(-amplitude), static_cast<float>(amplitude));
    std::vector<float> out(static_cast<size_t>(std::llround(seconds * sampleRate)));
    for (float& v : out) v = dist(rng);
    return out;
}

// A click every 60/bpm seconds from `firstClick`: 15 ms of exponentially decaying noise.
inline std::vector<float> clickTrack(double bpm, double seconds, int sampleRate, double firstClick = 0.1) {
    std::vector<float> out(static_cast<size_t>(std::llround(seconds * sampleRate)), 0.0f);
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    const auto clickLength = static_cast<size_t>(0.015 * sampleRate);
    for (double t = firstClick; t < seconds; t += 60.0 / bpm) {
        const auto start = static_cast<size_t>(std::llround(t * sampleRate));
        for (size_t i = 0; i < clickLength && start + i < out.size(); ++i)
            out[start + i] = 0.8f * dist(rng) * static_cast<float>(std::exp(-static_cast<double>(i) / (0.003 * sampleRate)));
    }
    return out;
}

inline void append(std::vector<float>& to, const std::vector<float>& more) { to.insert(to.end(), more.begin(), more.end()); }

}  // namespace grym::test
