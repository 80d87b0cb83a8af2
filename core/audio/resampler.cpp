#include "audio/resampler.h"

#include "common/error.h"

#include <samplerate.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <memory>

namespace grym {
namespace {

int converterType(ResampleQuality quality) {
    switch (quality) {
        case ResampleQuality::SincBest: return SRC_SINC_BEST_QUALITY;
        case ResampleQuality::SincMedium: return SRC_SINC_MEDIUM_QUALITY;
        case ResampleQuality::SincFastest: return SRC_SINC_FASTEST;
        case ResampleQuality::ZeroOrderHold: return SRC_ZERO_ORDER_HOLD;
        case ResampleQuality::Linear: return SRC_LINEAR;
    }
    return SRC_SINC_MEDIUM_QUALITY;
}

struct SrcStateDeleter {
    void operator()(SRC_STATE* state) const { src_delete(state); }
};

}  // namespace

const char* toString(ResampleQuality quality) {
    switch (quality) {
        case ResampleQuality::SincBest: return "sinc-best";
        case ResampleQuality::SincMedium: return "sinc-medium";
        case ResampleQuality::SincFastest: return "sinc-fastest";
        case ResampleQuality::ZeroOrderHold: return "zoh";
        case ResampleQuality::Linear: return "linear";
    }
    return "?";
}

ResampleQuality parseResampleQuality(const std::string& name) {
    std::string key = name;
    std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return c == '_' ? '-' : std::tolower(c); });
    for (auto q : {ResampleQuality::SincBest, ResampleQuality::SincMedium, ResampleQuality::SincFastest,
                   ResampleQuality::ZeroOrderHold, ResampleQuality::Linear})
        if (key == toString(q)) return q;
    throw AudioError("unknown resampler '" + name + "' (use sinc-best, sinc-medium, sinc-fastest, zoh or linear)");
}

AudioBuffer resample(const AudioBuffer& audio, int targetRate, ResampleQuality quality) {
    if (audio.sampleRate <= 0 || audio.channels <= 0)
        throw AudioError("resample: the input has sample rate " + std::to_string(audio.sampleRate) + " and " +
                         std::to_string(audio.channels) + " channels");
    if (targetRate <= 0) throw AudioError("resample: target sample rate " + std::to_string(targetRate) + " is not positive");
    const double ratio = static_cast<double>(targetRate) / audio.sampleRate;
    if (!src_is_valid_ratio(ratio))
        throw AudioError("resample: " + std::to_string(audio.sampleRate) + " Hz to " + std::to_string(targetRate) +
                         " Hz is beyond libsamplerate's 256:1 range");

    AudioBuffer out;
    out.sampleRate = targetRate;
    out.channels = audio.channels;
    const int64_t inFrames = audio.frames();
    const auto wantFrames = static_cast<int64_t>(std::llround(inFrames * ratio));
    if (targetRate == audio.sampleRate || inFrames == 0) {
        out.samples = audio.samples;
        return out;
    }

    int err = 0;
    std::unique_ptr<SRC_STATE, SrcStateDeleter> state(src_new(converterType(quality), audio.channels, &err));
    if (!state) throw AudioError(std::string("resample: libsamplerate cannot start: ") + src_strerror(err));

    // Room for the whole result plus the converter's flush; the loop drains it at end of input.
    out.samples.resize(static_cast<size_t>(wantFrames + 64) * audio.channels);
    int64_t consumed = 0, produced = 0;
    for (;;) {
        SRC_DATA data{};
        data.data_in = audio.samples.data() + consumed * audio.channels;
        data.input_frames = static_cast<long>(inFrames - consumed);
        data.data_out = out.samples.data() + produced * audio.channels;
        data.output_frames = static_cast<long>(wantFrames + 64 - produced);
        data.end_of_input = 1;
        data.src_ratio = ratio;
        if (int e = src_process(state.get(), &data); e != 0)
            throw AudioError(std::string("resample: libsamplerate failed: ") + src_strerror(e));
        consumed += data.input_frames_used;
        produced += data.output_frames_gen;
        if (data.output_frames_gen == 0 || produced >= wantFrames + 64) break;
    }
    // libsamplerate can stop a frame or two either side of the exact length; pad with
    // silence or cut so callers can rely on the length.
    out.samples.resize(static_cast<size_t>(wantFrames) * audio.channels, 0.0f);
    return out;
}

}  // namespace grym
