#pragma once
// Sample-rate conversion through libsamplerate.
#include "audio/audio_buffer.h"

#include <cstdint>
#include <memory>
#include <string>

namespace grym {

// libsamplerate's converters, best quality first. The sinc converters are band-limited
// (they suppress content above the new Nyquist); zero-order hold and linear are cheap
// but alias.
enum class ResampleQuality { SincBest, SincMedium, SincFastest, ZeroOrderHold, Linear };

const char* toString(ResampleQuality quality);
// Accepts "sinc-best", "sinc-medium", "sinc-fastest", "zoh", "linear" (and '_' for '-');
// throws AudioError naming the accepted values otherwise.
ResampleQuality parseResampleQuality(const std::string& name);

// Converts a stream block by block (e.g. blocks from AudioFileReader), keeping the
// converter's state between blocks, so a long file never has to be in memory at once.
// The blocks' outputs joined equal resample() of the joined input, to float rounding.
class StreamingResampler {
public:
    StreamingResampler(int channels, int sourceRate, int targetRate, ResampleQuality quality = ResampleQuality::SincMedium);
    ~StreamingResampler();
    StreamingResampler(StreamingResampler&&) noexcept;
    StreamingResampler& operator=(StreamingResampler&&) noexcept;

    // `block` must have the channel count and source rate given at construction. With
    // `last`, the converter is flushed and the total output is made exactly
    // round(total input frames * targetRate / sourceRate) frames long.
    AudioBuffer process(const AudioBuffer& block, bool last);

private:
    struct State;
    std::unique_ptr<State> state_;
};

// Converts every channel to `targetRate`. The result has exactly
// round(frames * targetRate / sampleRate) frames, time-aligned with the input.
AudioBuffer resample(const AudioBuffer& audio, int targetRate,
                     ResampleQuality quality = ResampleQuality::SincMedium);

}  // namespace grym
