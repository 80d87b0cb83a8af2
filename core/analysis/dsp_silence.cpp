#include "analysis/dsp_silence.h"

#include "common/error.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace grym::dsp {

SilenceFraming silenceFraming(int sampleRate, const SilenceOptions& options) {
    if (sampleRate <= 0) throw AudioError("silence: sample rate " + std::to_string(sampleRate) + " is not positive");
    if (!(options.hopSeconds > 0 && options.frameSeconds >= options.hopSeconds))
        throw AudioError("silence: frame " + std::to_string(options.frameSeconds) + " s and hop " +
                         std::to_string(options.hopSeconds) + " s must be positive, frame >= hop");
    return {std::max<size_t>(1, static_cast<size_t>(std::llround(options.frameSeconds * sampleRate))),
            std::max<size_t>(1, static_cast<size_t>(std::llround(options.hopSeconds * sampleRate)))};
}

double frameLevelDb(const float* samples, size_t count) {
    double sum = 0;
    for (size_t i = 0; i < count; ++i) sum += static_cast<double>(samples[i]) * samples[i];
    return 10.0 * std::log10(std::max(sum / static_cast<double>(std::max<size_t>(count, 1)), 1e-40));
}

std::vector<TimeRegion> silentRegionsFromLevels(const std::vector<double>& levelDb, int64_t totalSamples, int sampleRate,
                                                const SilenceOptions& options) {
    const SilenceFraming framing = silenceFraming(sampleRate, options);
    std::vector<TimeRegion> regions;
    if (totalSamples <= 0 || levelDb.empty()) return regions;
    const double duration = static_cast<double>(totalSamples) / sampleRate;
    const double frame = static_cast<double>(framing.frame), hop = static_cast<double>(framing.hop);
    double loudestDb = -400;
    for (double db : levelDb) loudestDb = std::max(loudestDb, db);
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

std::vector<TimeRegion> findSilentRegions(const std::vector<float>& mono, int sampleRate, const SilenceOptions& options) {
    const SilenceFraming framing = silenceFraming(sampleRate, options);
    std::vector<double> levelDb;  // per frame; frames start every hop, the last may be partial
    for (size_t start = 0; start < mono.size(); start += framing.hop)
        levelDb.push_back(frameLevelDb(mono.data() + start, std::min(mono.size(), start + framing.frame) - start));
    return silentRegionsFromLevels(levelDb, static_cast<int64_t>(mono.size()), sampleRate, options);
}

}  // namespace grym::dsp
