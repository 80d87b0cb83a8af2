#pragma once
// How audible a joint is: where two pieces of audio meet (a window join of a long generation,
// an inpainted range's edge) or where a loop wraps from its end to its start. A joint is
// judged against the clip's own frame-to-frame variation, so a busy clip may change a lot at
// a joint and a calm one may not.
#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <vector>

namespace grym::dsp {

struct SeamMeasure {
    // |x[s] - x[s-1]| over the median |x[i] - x[i-1]| of the clip (a click shows as a big ratio).
    double sampleJumpRatio = 0.0;
    // Spectral flux (summed rise of the log-magnitude spectrum) into and out of the frame
    // centred on the joint, over the median flux between neighbouring frames of the clip.
    double spectralFluxRatio = 0.0;
};

struct SeamOptions {
    size_t frameLength = 512;   // samples per spectral frame (a power of two)
};

// The joint between samples seam-1 and seam of a mono signal. Throws AudioError when the
// signal is too short for two frames on each side of the joint.
SeamMeasure measureSeam(const std::vector<float>& mono, size_t seam, const SeamOptions& options = {});

// The joint heard when `mono` plays in a loop: its last sample followed by its first.
SeamMeasure measureLoopPoint(const std::vector<float>& mono, const SeamOptions& options = {});

nlohmann::json toJson(const SeamMeasure& measure);

}  // namespace grym::dsp
