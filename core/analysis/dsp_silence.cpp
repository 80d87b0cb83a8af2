#include "analysis/dsp_silence.h"

#include "common/error.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace grym::dsp {

std::vector<TimeRegion> findSilentRegions(const std::vector<float>& mono, int sampleRate, const SilenceOptions& options) {
    if (sampleRate <= 0) throw AudioError("silence: sample rate " + std::to_string(sampleRate) + " is not positive");
    if (!(options.hopSeconds > 0 && options.frameSeconds >= options.hopSeconds))
        throw AudioError("silence: frame " + std::to_string(options.frameSeconds) + " s and hop " +
                         std::to_string(options.hopSeconds) + " s must be positive, frame >= hop");
    std::vector<TimeRegion> regions;
    if (mono.empty()) return regions;
    const double duration = static_cast<double>(mono.size()) / sampleRate;
    const auto frame = std::max<size_t>(1, static_cast<size_t>(std::llround(options.frameSeconds * sampleRate)));
    const auto hop = std::max<size_t>(1, static_cast<size_t>(std::llround(options.hopSeconds * sampleRate)));

    std::vector<double> levelDb;  // per frame; frames start every hop, the last may be partial
    double loudestDb = -400;
    for (size_t start = 0; start < mono.size(); start += hop) {
        const size_t end = std::min(mono.size(), start + frame);
        double sum = 0;
        for (size_t i = start; i < end; ++i) sum += static_cast<double>(mono[i]) * mono[i];
        const double db = 10.0 * std::log10(std::max(sum / (end - start), 1e-40));
        levelDb.push_back(db);
        loudestDb = std::max(loudestDb, db);
    }
    const double threshold = std::max(options.floorDb, std::min(options.absoluteDb, loudestDb + options.relativeDb));

    // Each frame speaks for the hop-long slice around its centre.
    auto sliceStart = [&](size_t f) { return std::clamp((f * hop + frame / 2.0 - hop / 2.0) / sampleRate, 0.0, duration); };
    auto sliceEnd = [&](size_t f) { return std::clamp((f * hop + frame / 2.0 + hop / 2.0) / sampleRate, 0.0, duration); };
    const size_t frames = levelDb.size();
    for (size_t f = 0; f < frames;) {
        if (levelDb[f] >= threshold) {
            ++f;
            continue;
        }
        size_t last = f;
        while (last + 1 < frames && levelDb[last + 1] < threshold) ++last;
        const TimeRegion region{f == 0 ? 0.0 : sliceStart(f), last + 1 == frames ? duration : sliceEnd(last)};
        if (region.end - region.start >= options.minDurationSeconds) regions.push_back(region);
        f = last + 1;
    }
    return regions;
}

}  // namespace grym::dsp
