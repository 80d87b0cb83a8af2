#pragma once
// Silent stretches of a recording.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace grym::dsp {

struct TimeRegion {
    double start = 0;  // seconds
    double end = 0;
};

struct SilenceOptions {
    // A frame is silent when its RMS is below min(absoluteDb, loudest frame + relativeDb):
    // quiet next to the content, and never louder than absoluteDb; and always below floorDb.
    double absoluteDb = -50.0;
    double relativeDb = -40.0;
    double floorDb = -90.0;  // below this a frame is always silent (digital silence, dither)
    double minDurationSeconds = 0.3;  // shorter gaps (between words, notes) are not reported
    double frameSeconds = 0.02;
    double hopSeconds = 0.01;
};

// Regions in time order, clamped to [0, duration]; a silent file is one region.
std::vector<TimeRegion> findSilentRegions(const std::vector<float>& mono, int sampleRate, const SilenceOptions& options = {});

// The same in two steps, for streams: the level of each frame (frames start every `hop`
// samples and are `frame` long, the last ones cut at the end of the signal), then the
// regions once every level of a `totalSamples` long signal is known.
struct SilenceFraming {
    size_t frame = 0;
    size_t hop = 0;
};
SilenceFraming silenceFraming(int sampleRate, const SilenceOptions& options);  // validates the options
double frameLevelDb(const float* samples, size_t count);
std::vector<TimeRegion> silentRegionsFromLevels(const std::vector<double>& levelDb, int64_t totalSamples, int sampleRate,
                                                const SilenceOptions& options = {});

}  // namespace grym::dsp
