#pragma once
// Segment boundaries from the self-similarity of frame features (Foote's checkerboard
// novelty). Works on any [frames x dims] matrix: DSP band energies, or model embeddings.
#include <cstddef>
#include <vector>

namespace grym::dsp {

// Row-major frames x dims.
struct FeatureMatrix {
    size_t frames = 0;
    size_t dims = 0;
    std::vector<float> values;

    FeatureMatrix() = default;
    FeatureMatrix(size_t frameCount, size_t dimCount) : frames(frameCount), dims(dimCount), values(frameCount * dimCount, 0.0f) {}
    float* row(size_t f) { return values.data() + f * dims; }
    const float* row(size_t f) const { return values.data() + f * dims; }
};

struct SegmentationOptions {
    double poolSeconds = 0.25;        // frames are averaged into steps of about this length first
    double kernelSeconds = 6.0;       // full width of the checkerboard kernel (half each side)
    double minSegmentSeconds = 2.0;   // boundaries are at least this far apart and from either end
    double threshold = 0.15;          // minimum novelty of a boundary (novelty is in [-1, 1])
};

struct Segmentation {
    std::vector<double> boundaries;  // seconds, interior boundaries only, ascending
    std::vector<float> novelty;      // one value per pooled step
    double noveltyRate = 0;          // novelty values per second
};

// `frameRate` is feature rows per second. Each dimension is standardised over time
// (so no single large-valued dimension dominates), rows are compared by cosine similarity,
// and novelty peaks above the threshold become boundaries.
Segmentation segmentBySelfSimilarity(const FeatureMatrix& features, double frameRate,
                                     const SegmentationOptions& options = {});

}  // namespace grym::dsp
