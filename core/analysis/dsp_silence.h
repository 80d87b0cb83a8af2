#pragma once
// Silent stretches of a recording.
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

}  // namespace grym::dsp
