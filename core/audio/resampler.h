#pragma once
// Sample-rate conversion through libsamplerate.
#include "audio/audio_buffer.h"

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

// Converts every channel to `targetRate`. The result has exactly
// round(frames * targetRate / sampleRate) frames, time-aligned with the input.
AudioBuffer resample(const AudioBuffer& audio, int targetRate,
                     ResampleQuality quality = ResampleQuality::SincMedium);

}  // namespace grym
