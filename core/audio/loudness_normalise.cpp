#include "audio/loudness_normalise.h"

#include "audio/audio_ops.h"
#include "common/error.h"

#include <ebur128.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>

namespace grym {

namespace {

struct Ebur128Deleter {
    void operator()(ebur128_state* state) const { ebur128_destroy(&state); }
};
using Ebur128State = std::unique_ptr<ebur128_state, Ebur128Deleter>;

[[noreturn]] void loudnessFailure(const char* context, const std::string& cause) {
    throw AudioError(std::string(context) + ": " + cause);
}

}  // namespace

double integratedLoudnessLufs(const AudioBuffer& audio, const char* context) {
    validateBuffer(audio, context);
    Ebur128State state(ebur128_init(static_cast<unsigned>(audio.channels), static_cast<unsigned long>(audio.sampleRate),
                                    EBUR128_MODE_I));
    if (!state)
        loudnessFailure(context, "libebur128 cannot measure " + std::to_string(audio.channels) + " channels at " +
                                     std::to_string(audio.sampleRate) + " Hz");
    // Fed in blocks: libebur128 copies each call into its own ring, so any size works, and
    // blocks keep its per-call bookkeeping small for long clips.
    constexpr int64_t kBlockFrames = 1 << 15;
    for (int64_t frame = 0; frame < audio.frames(); frame += kBlockFrames) {
        const int64_t count = std::min(kBlockFrames, audio.frames() - frame);
        if (ebur128_add_frames_float(state.get(), audio.samples.data() + frame * audio.channels, static_cast<size_t>(count)) !=
            EBUR128_SUCCESS)
            loudnessFailure(context, "libebur128 failed while measuring");
    }
    double lufs = 0.0;
    if (ebur128_loudness_global(state.get(), &lufs) != EBUR128_SUCCESS)
        loudnessFailure(context, "libebur128 could not compute the integrated loudness");
    // libebur128 reports -HUGE_VAL for audio that never passes the absolute gate.
    return std::isfinite(lufs) ? lufs : -std::numeric_limits<double>::infinity();
}

LoudnessNormalisation normaliseLoudness(AudioBuffer& audio, double targetLufs, const char* context) {
    if (!std::isfinite(targetLufs) || targetLufs < -70.0 || targetLufs > 0.0)
        loudnessFailure(context, "target loudness " + std::to_string(targetLufs) + " LUFS is outside -70..0 LUFS");
    LoudnessNormalisation result;
    result.measuredLufs = integratedLoudnessLufs(audio, context);
    if (!std::isfinite(result.measuredLufs))
        loudnessFailure(context, "the audio is silent (below -70 LUFS), so it has no loudness to normalise");
    result.gainDb = targetLufs - result.measuredLufs;
    const auto gain = static_cast<float>(dbToAmplitude(result.gainDb));
    for (float& sample : audio.samples) sample *= gain;
    return result;
}

}  // namespace grym
