#include "analysis/dsp_segments.h"

#include "common/error.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace grym::dsp {
namespace {

// Averages consecutive rows in groups of `group`, then standardises each column and
// scales each row to unit length, so a dot product is a cosine similarity.
FeatureMatrix poolAndNormalise(const FeatureMatrix& in, size_t group) {
    const size_t steps = (in.frames + group - 1) / group;
    FeatureMatrix out(steps, in.dims);
    for (size_t s = 0; s < steps; ++s) {
        const size_t first = s * group, last = std::min(in.frames, first + group);
        float* dst = out.row(s);
        for (size_t f = first; f < last; ++f)
            for (size_t d = 0; d < in.dims; ++d) dst[d] += in.row(f)[d];
        for (size_t d = 0; d < in.dims; ++d) dst[d] /= static_cast<float>(last - first);
    }
    for (size_t d = 0; d < out.dims; ++d) {
        double mean = 0, square = 0;
        for (size_t s = 0; s < steps; ++s) mean += out.row(s)[d];
        mean /= steps;
        for (size_t s = 0; s < steps; ++s) square += (out.row(s)[d] - mean) * (out.row(s)[d] - mean);
        const double deviation = std::sqrt(square / steps);
        for (size_t s = 0; s < steps; ++s)
            out.row(s)[d] = deviation > 1e-9 ? static_cast<float>((out.row(s)[d] - mean) / deviation) : 0.0f;
    }
    for (size_t s = 0; s < steps; ++s) {
        double norm = 0;
        for (size_t d = 0; d < out.dims; ++d) norm += static_cast<double>(out.row(s)[d]) * out.row(s)[d];
        norm = std::sqrt(norm);
        if (norm > 1e-12)
            for (size_t d = 0; d < out.dims; ++d) out.row(s)[d] = static_cast<float>(out.row(s)[d] / norm);
    }
    return out;
}

}  // namespace

Segmentation segmentBySelfSimilarity(const FeatureMatrix& features, double frameRate, const SegmentationOptions& options) {
    if (!(frameRate > 0)) throw AudioError("segmentation: frame rate " + std::to_string(frameRate) + " is not positive");
    if (features.values.size() != features.frames * features.dims)
        throw AudioError("segmentation: a " + std::to_string(features.frames) + " x " + std::to_string(features.dims) +
                         " matrix holds " + std::to_string(features.values.size()) + " values");
    if (!(options.poolSeconds > 0 && options.kernelSeconds > 0))
        throw AudioError("segmentation: pool and kernel lengths must be positive");
    Segmentation result;
    if (features.frames == 0 || features.dims == 0) return result;

    const size_t group = std::max<size_t>(1, static_cast<size_t>(std::llround(options.poolSeconds * frameRate)));
    const double stepRate = frameRate / group;
    result.noveltyRate = stepRate;
    const FeatureMatrix steps = poolAndNormalise(features, group);
    const size_t n = steps.frames;
    const long half = std::max(1L, std::lround(options.kernelSeconds * stepRate / 2.0));
    const size_t width = 2 * static_cast<size_t>(half);

    // Similarity within the kernel's reach only: band[i * width + k] = S(i, i + k), k < width.
    std::vector<float> band(n * width, 0.0f);
    for (size_t i = 0; i < n; ++i)
        for (size_t k = 0; k < width && i + k < n; ++k) {
            double dot = 0;
            for (size_t d = 0; d < steps.dims; ++d) dot += static_cast<double>(steps.row(i)[d]) * steps.row(i + k)[d];
            band[i * width + k] = static_cast<float>(dot);
        }
    auto similarity = [&](long a, long b) { return a <= b ? band[a * width + (b - a)] : band[b * width + (a - b)]; };

    // Checkerboard kernel with a Gaussian taper: +1 within the past and within the future,
    // -1 across, normalised by its total weight, so a clean cut between uncorrelated
    // sections scores about 0.5 and between opposite ones 1. Near either end the kernel
    // shrinks to stay balanced (equal past and future), which keeps the edges from
    // looking novel.
    const double sigma = half / 2.0;
    result.novelty.assign(n, 0.0f);
    for (long t = 1; t < static_cast<long>(n); ++t) {
        const long reach = std::min({half, t, static_cast<long>(n) - t});
        double sum = 0, weight = 0;
        for (long a = -reach; a < reach; ++a)
            for (long b = -reach; b < reach; ++b) {
                const double taper = std::exp(-((a + 0.5) * (a + 0.5) + (b + 0.5) * (b + 0.5)) / (2 * sigma * sigma));
                sum += ((a < 0) == (b < 0) ? taper : -taper) * similarity(t + a, t + b);
                weight += taper;
            }
        result.novelty[t] = static_cast<float>(sum / weight);
    }

    // Strongest peaks first, each suppressing others within the minimum segment length.
    const long minGap = std::max(1L, std::lround(options.minSegmentSeconds * stepRate));
    std::vector<long> candidates;
    for (long t = minGap; t + minGap <= static_cast<long>(n); ++t) {
        const float v = result.novelty[t];
        if (v < options.threshold) continue;
        if ((t > 0 && result.novelty[t - 1] > v) || (t + 1 < static_cast<long>(n) && result.novelty[t + 1] > v)) continue;
        candidates.push_back(t);
    }
    std::sort(candidates.begin(), candidates.end(), [&](long a, long b) { return result.novelty[a] > result.novelty[b]; });
    std::vector<long> chosen;
    for (long t : candidates)
        if (std::all_of(chosen.begin(), chosen.end(), [&](long c) { return std::labs(c - t) >= minGap; })) chosen.push_back(t);
    std::sort(chosen.begin(), chosen.end());
    for (long t : chosen) result.boundaries.push_back(static_cast<double>(t) / stepRate);
    return result;
}

}  // namespace grym::dsp
