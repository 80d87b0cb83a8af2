#pragma once
// Audio that tests make themselves.
#include "audio/audio_buffer.h"

#include <cmath>

namespace grym::test {

inline AudioBuffer tone(double seconds, int rate = 16000, int channels = 1, double frequency = 440.0) {
    AudioBuffer audio;
    audio.sampleRate = rate;
    audio.channels = channels;
    const auto frames = static_cast<size_t>(seconds * rate);
    audio.samples.resize(frames * channels);
    for (size_t i = 0; i < frames; ++i)
        for (int c = 0; c < channels; ++c)
            audio.samples[i * channels + c] = static_cast<float>(0.4 * std::sin(2.0 * M_PI * frequency * i / rate));
    return audio;
}

}  // namespace grym::test
