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

namespace {

void checkRates(int sourceRate, int targetRate, int channels) {
    if (sourceRate <= 0 || channels <= 0)
        throw AudioError("resample: the input has sample rate " + std::to_string(sourceRate) + " and " +
                         std::to_string(channels) + " channels");
    if (targetRate <= 0) throw AudioError("resample: target sample rate " + std::to_string(targetRate) + " is not positive");
    if (!src_is_valid_ratio(static_cast<double>(targetRate) / sourceRate))
        throw AudioError("resample: " + std::to_string(sourceRate) + " Hz to " + std::to_string(targetRate) +
                         " Hz is beyond libsamplerate's 256:1 range");
}

}  // namespace

struct StreamingResampler::State {
    std::unique_ptr<SRC_STATE, SrcStateDeleter> converter;
    int channels = 0, sourceRate = 0, targetRate = 0;
    double ratio = 1;
    int64_t framesIn = 0, framesOut = 0;
    bool finished = false;
};

StreamingResampler::StreamingResampler(int channels, int sourceRate, int targetRate, ResampleQuality quality)
    : state_(std::make_unique<State>()) {
    checkRates(sourceRate, targetRate, channels);
    int err = 0;
    state_->converter.reset(src_new(converterType(quality), channels, &err));
    if (!state_->converter) throw AudioError(std::string("resample: libsamplerate cannot start: ") + src_strerror(err));
    state_->channels = channels;
    state_->sourceRate = sourceRate;
    state_->targetRate = targetRate;
    state_->ratio = static_cast<double>(targetRate) / sourceRate;
}

StreamingResampler::~StreamingResampler() = default;
StreamingResampler::StreamingResampler(StreamingResampler&&) noexcept = default;
StreamingResampler& StreamingResampler::operator=(StreamingResampler&&) noexcept = default;

AudioBuffer StreamingResampler::process(const AudioBuffer& block, bool last) {
    State& s = *state_;
    if (s.finished) throw AudioError("resample: the stream was already finished");
    if (block.channels != s.channels || block.sampleRate != s.sourceRate || block.samples.size() % s.channels != 0)
        throw AudioError("resample: a block of " + std::to_string(block.channels) + " channels at " +
                         std::to_string(block.sampleRate) + " Hz does not match the stream's " + std::to_string(s.channels) +
                         " channels at " + std::to_string(s.sourceRate) + " Hz");
    AudioBuffer out;
    out.sampleRate = s.targetRate;
    out.channels = s.channels;
    const int64_t inFrames = block.frames();
    s.framesIn += inFrames;
    const auto wantTotal = static_cast<int64_t>(std::llround(s.framesIn * s.ratio));
    // Room for this block's share plus the converter's latency, which a flush releases.
    const int64_t capacity = static_cast<int64_t>(std::ceil(inFrames * s.ratio)) + 64 + (last ? std::max<int64_t>(0, wantTotal - s.framesOut) : 0);
    out.samples.resize(static_cast<size_t>(capacity) * s.channels);

    int64_t consumed = 0, produced = 0;
    for (;;) {
        if (produced == out.frames()) out.samples.resize(out.samples.size() * 2);
        SRC_DATA data{};
        static const float kNoInput = 0.0f;  // libsamplerate wants a pointer even for no frames
        data.data_in = inFrames > 0 ? block.samples.data() + consumed * s.channels : &kNoInput;
        data.input_frames = static_cast<long>(inFrames - consumed);
        data.data_out = out.samples.data() + produced * s.channels;
        data.output_frames = static_cast<long>(out.frames() - produced);
        data.end_of_input = last ? 1 : 0;
        data.src_ratio = s.ratio;
        if (int e = src_process(s.converter.get(), &data); e != 0)
            throw AudioError(std::string("resample: libsamplerate failed: ") + src_strerror(e));
        consumed += data.input_frames_used;
        produced += data.output_frames_gen;
        if (consumed < inFrames) continue;      // more of this block to feed
        if (!last) break;                       // the converter holds its latency for the next block
        if (data.output_frames_gen == 0) break; // flushed
    }
    int64_t keep = produced;
    if (last) {
        // libsamplerate can stop a frame or two either side of the exact length; pad with
        // silence or cut so callers can rely on the length.
        keep = std::max<int64_t>(0, wantTotal - s.framesOut);
        s.finished = true;
    }
    out.samples.resize(static_cast<size_t>(keep) * s.channels, 0.0f);
    s.framesOut += keep;
    return out;
}

AudioBuffer resample(const AudioBuffer& audio, int targetRate, ResampleQuality quality) {
    checkRates(audio.sampleRate, targetRate, audio.channels);
    if (targetRate == audio.sampleRate || audio.empty()) {
        AudioBuffer out = audio;
        out.sampleRate = targetRate;
        return out;
    }
    return StreamingResampler(audio.channels, audio.sampleRate, targetRate, quality).process(audio, true);
}

}  // namespace grym
