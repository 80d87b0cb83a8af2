#pragma once
// Decoded audio in memory: float32 samples, interleaved by channel.
#include <cstdint>
#include <vector>

namespace grym {

struct AudioBuffer {
    int sampleRate = 0;
    int channels = 0;
    std::vector<float> samples;  // frames() * channels values, interleaved

    int64_t frames() const { return channels > 0 ? static_cast<int64_t>(samples.size()) / channels : 0; }
    double duration() const { return sampleRate > 0 ? static_cast<double>(frames()) / sampleRate : 0.0; }
    bool empty() const { return samples.empty(); }
    float sample(int64_t frame, int channel) const { return samples[frame * channels + channel]; }
};

}  // namespace grym
