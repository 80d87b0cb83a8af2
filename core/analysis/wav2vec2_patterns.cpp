#include "analysis/wav2vec2_patterns.h"

#include <algorithm>
#include <cmath>

namespace grym {

std::vector<RepeatedSection> findRepeatedSections(const dsp::FeatureMatrix& features, double frameRate,
                                                  const std::vector<double>& boundaries, double threshold, double minSeconds) {
    std::vector<RepeatedSection> out;
    if (features.frames == 0 || features.dims == 0 || !(frameRate > 0)) return out;
    const size_t dims = features.dims;

    // Standardise each dimension over time so shared offsets do not make everything alike.
    std::vector<double> mean(dims, 0.0), scale(dims, 0.0);
    for (size_t f = 0; f < features.frames; ++f)
        for (size_t d = 0; d < dims; ++d) mean[d] += features.row(f)[d];
    for (double& m : mean) m /= static_cast<double>(features.frames);
    for (size_t f = 0; f < features.frames; ++f)
        for (size_t d = 0; d < dims; ++d) scale[d] += std::pow(features.row(f)[d] - mean[d], 2);
    for (double& s : scale) s = 1.0 / std::sqrt(s / static_cast<double>(features.frames) + 1e-12);

    struct Segment {
        double start, end;
        std::vector<double> centroid;
    };
    std::vector<double> edges{0.0};
    edges.insert(edges.end(), boundaries.begin(), boundaries.end());
    edges.push_back(static_cast<double>(features.frames) / frameRate);
    std::vector<Segment> segments;
    for (size_t i = 0; i + 1 < edges.size(); ++i) {
        if (edges[i + 1] - edges[i] < minSeconds) continue;
        const auto first = static_cast<size_t>(std::max(0.0, std::floor(edges[i] * frameRate)));
        const auto last = std::min(features.frames, static_cast<size_t>(std::ceil(edges[i + 1] * frameRate)));
        if (last <= first) continue;
        Segment s{edges[i], edges[i + 1], std::vector<double>(dims, 0.0)};
        for (size_t f = first; f < last; ++f)
            for (size_t d = 0; d < dims; ++d) s.centroid[d] += (features.row(f)[d] - mean[d]) * scale[d];
        for (double& v : s.centroid) v /= static_cast<double>(last - first);
        segments.push_back(std::move(s));
    }
    for (size_t a = 0; a < segments.size(); ++a) {
        for (size_t b = a + 1; b < segments.size(); ++b) {
            double dot = 0, na = 0, nb = 0;
            for (size_t d = 0; d < dims; ++d) {
                dot += segments[a].centroid[d] * segments[b].centroid[d];
                na += segments[a].centroid[d] * segments[a].centroid[d];
                nb += segments[b].centroid[d] * segments[b].centroid[d];
            }
            if (na <= 0 || nb <= 0) continue;
            const double similarity = dot / std::sqrt(na * nb);
            if (similarity >= threshold)
                out.push_back({segments[a].start, segments[a].end, segments[b].start, segments[b].end, similarity});
        }
    }
    std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.similarity > y.similarity; });
    return out;
}

}  // namespace grym
