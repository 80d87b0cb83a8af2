#include "analysis/dsp_rhythm.h"

#include "common/error.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

namespace grym::dsp {

std::vector<double> pickOnsets(const std::vector<float>& envelope, double frameRate, const OnsetOptions& options) {
    if (!(frameRate > 0)) throw AudioError("onsets: frame rate " + std::to_string(frameRate) + " is not positive");
    std::vector<double> onsets;
    const float top = envelope.empty() ? 0.0f : *std::max_element(envelope.begin(), envelope.end());
    if (top <= 0) return onsets;

    const auto n = static_cast<long>(envelope.size());
    const long peakWindow = std::max(1L, std::lround(options.peakWindowSeconds * frameRate));
    const long meanWindow = std::max(1L, std::lround(options.meanWindowSeconds * frameRate));
    const long minGap = std::max(1L, std::lround(options.minGapSeconds * frameRate));
    std::vector<double> prefix(envelope.size() + 1, 0.0);
    for (long t = 0; t < n; ++t) prefix[t + 1] = prefix[t] + envelope[t] / top;

    long lastOnset = -minGap - 1;
    for (long t = 0; t < n; ++t) {
        const double value = envelope[t] / top;
        const long lo = std::max(0L, t - peakWindow), hi = std::min(n - 1, t + peakWindow);
        bool isPeak = value > 0;
        for (long u = lo; u <= hi && isPeak; ++u) isPeak = envelope[u] <= envelope[t];
        if (!isPeak) continue;
        const long meanLo = std::max(0L, t - meanWindow), meanHi = std::min(n - 1, t + peakWindow);
        const double localMean = (prefix[meanHi + 1] - prefix[meanLo]) / (meanHi - meanLo + 1);
        if (value < localMean + options.delta || t - lastOnset < minGap) continue;
        onsets.push_back(t / frameRate);
        lastOnset = t;
    }
    return onsets;
}

TempoEstimate estimateTempo(const std::vector<float>& envelope, double frameRate, const TempoOptions& options) {
    if (!(frameRate > 0)) throw AudioError("tempo: frame rate " + std::to_string(frameRate) + " is not positive");
    if (!(options.minBpm > 0 && options.maxBpm > options.minBpm))
        throw AudioError("tempo: BPM range " + std::to_string(options.minBpm) + ".." + std::to_string(options.maxBpm) + " is empty");
    TempoEstimate estimate;
    const size_t n = envelope.size();
    const auto minLag = std::max<size_t>(1, static_cast<size_t>(std::floor(60.0 * frameRate / options.maxBpm)));
    const auto maxLag = static_cast<size_t>(std::ceil(60.0 * frameRate / options.minBpm));
    if (n < minLag + 3) return estimate;

    const double mean = std::accumulate(envelope.begin(), envelope.end(), 0.0) / n;
    std::vector<double> centred(n);
    for (size_t i = 0; i < n; ++i) centred[i] = envelope[i] - mean;
    const size_t lastLag = std::min(maxLag + 1, n - 1);
    std::vector<double> acf(lastLag + 1, 0.0);
    for (size_t lag = 0; lag <= lastLag; ++lag)
        for (size_t i = 0; i + lag < n; ++i) acf[lag] += centred[i] * centred[i + lag];
    if (acf[0] <= 0) return estimate;

    size_t best = 0;
    double bestScore = 0;
    for (size_t lag = minLag; lag < lastLag; ++lag) {
        // Only true local maxima count: a rising edge at the range limit is not a period.
        if (acf[lag] <= 0 || acf[lag] < acf[lag - 1] || acf[lag] < acf[lag + 1]) continue;
        const double octaves = std::log2(60.0 * frameRate / lag / options.preferredBpm) / options.priorOctaves;
        const double score = acf[lag] * std::exp(-0.5 * octaves * octaves);
        if (score > bestScore) {
            bestScore = score;
            best = lag;
        }
    }
    if (best == 0) return estimate;
    double lag = static_cast<double>(best);
    const double l = acf[best - 1], c = acf[best], r = acf[best + 1];
    if (const double curvature = l - 2 * c + r; curvature < 0) lag += 0.5 * (l - r) / curvature;
    estimate.bpm = 60.0 * frameRate / lag;
    estimate.confidence = std::clamp(acf[best] / acf[0], 0.0, 1.0);
    return estimate;
}

}  // namespace grym::dsp
