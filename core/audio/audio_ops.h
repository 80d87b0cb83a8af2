#pragma once
// Whole-buffer operations: mix-down, levels, normalisation, trimming.
#include "audio/audio_buffer.h"

namespace grym {

// Throws AudioError (prefixed with `context`) unless the buffer has a positive rate,
// at least one channel and a whole number of frames.
void validateBuffer(const AudioBuffer& audio, const char* context);

// Averages the channels (equal weights); a mono buffer is returned unchanged.
AudioBuffer mixToMono(const AudioBuffer& audio);

float peakAmplitude(const AudioBuffer& audio);  // max |sample| over all channels
double rmsLevel(const AudioBuffer& audio);      // over all samples of all channels

// 20*log10(amplitude); -inf for 0.
double amplitudeToDb(double amplitude);
double dbToAmplitude(double db);

// Scales so the peak equals `targetPeakDb` dBFS. Silence is left as it is.
void normalizePeak(AudioBuffer& audio, double targetPeakDb = -1.0);

// The frames in [startSeconds, endSeconds), clamped to the buffer; endSeconds < 0 means the end.
AudioBuffer trimSeconds(const AudioBuffer& audio, double startSeconds, double endSeconds = -1.0);

// Drops leading and trailing frames whose every channel is below `thresholdDb` dBFS,
// keeping `keepSeconds` of margin either side. An all-silent buffer becomes empty.
AudioBuffer trimSilence(const AudioBuffer& audio, double thresholdDb = -60.0, double keepSeconds = 0.0);

}  // namespace grym
