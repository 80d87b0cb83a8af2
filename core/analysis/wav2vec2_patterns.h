#pragma once
// Repeated sections: segments (between self-similarity boundaries) whose average feature
// vectors point the same way. Works on any [frames x dims] matrix, like the segmenter.
#include "analysis/dsp_segments.h"

#include <vector>

namespace grym {

struct RepeatedSection {
    double firstStart = 0, firstEnd = 0;    // seconds
    double secondStart = 0, secondEnd = 0;
    double similarity = 0;                  // cosine of the segments' standardised mean vectors
};

// `boundaries`: interior segment boundaries in seconds (ascending). Segments shorter than
// minSeconds are skipped; pairs at or above `threshold` are reported, most similar first.
std::vector<RepeatedSection> findRepeatedSections(const dsp::FeatureMatrix& features, double frameRate,
                                                  const std::vector<double>& boundaries, double threshold = 0.9,
                                                  double minSeconds = 1.0);

}  // namespace grym
