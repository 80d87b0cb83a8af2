#pragma once
// Loudness normalisation to a target in LUFS (EBU R128 / ITU-R BS.1770 integrated loudness),
// measured by libebur128. One small pair of functions so that every caller that needs the
// integrated loudness of a buffer (export today, the analysis later) measures it the same way.
#include "audio/audio_buffer.h"

namespace grym {

// Integrated loudness of the whole buffer in LUFS, channels mapped as libebur128 does by
// default (L, R, C, unused, Ls, Rs; a mono buffer is one channel with weight 1).
// -infinity for a buffer that is silent below the absolute gate (-70 LUFS). Throws AudioError
// (prefixed with `context`) for a buffer libebur128 cannot measure.
double integratedLoudnessLufs(const AudioBuffer& audio, const char* context = "loudness");

struct LoudnessNormalisation {
    double measuredLufs = 0.0;  // before: -inf for silence
    double gainDb = 0.0;        // applied (0 for silence, which no gain can bring to a target)
};

// Scales every sample by one gain so the integrated loudness becomes `targetLufs`.
// The gain is not limited: the peak may rise above full scale, which a float file keeps and a
// PCM file clips (callers report the peak). Throws AudioError for a target outside
// [-70, 0] LUFS or a buffer that is silent below the gate (there is nothing to measure).
LoudnessNormalisation normaliseLoudness(AudioBuffer& audio, double targetLufs, const char* context = "normalise");

}  // namespace grym
