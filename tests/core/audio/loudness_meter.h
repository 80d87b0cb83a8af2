#pragma once
// Integrated loudness measured by libebur128 itself, independently of the code under test, for
// the export and normalisation tests.
#include "audio/audio_buffer.h"

#include <ebur128.h>

#include <cmath>
#include <memory>

namespace grym::test {

inline double measureLufs(const AudioBuffer& audio) {
    std::unique_ptr<ebur128_state, void (*)(ebur128_state*)> state(
        ebur128_init(static_cast<unsigned>(audio.channels), static_cast<unsigned long>(audio.sampleRate), EBUR128_MODE_I),
        [](ebur128_state* s) { ebur128_destroy(&s); });
    if (!state) return NAN;
    ebur128_add_frames_float(state.get(), audio.samples.data(), static_cast<size_t>(audio.frames()));
    double lufs = NAN;
    ebur128_loudness_global(state.get(), &lufs);
    return lufs;
}

}  // namespace grym::test
