#pragma once
// transformers' Wav2Vec2FeatureExtractor: each clip normalised to zero mean and unit
// variance over its own samples (variance floor
// 1e-5, see feature_extractor.cpp), then right-padded to the longest clip with the
// padding value, plus a sample-level attention mask (1 = real audio).
#include "models/wav2vec2/config.h"

#include <torch/types.h>

#include <vector>

namespace grym {

struct Wav2vec2Batch {
    torch::Tensor inputValues;    // (batch, samples) float32
    torch::Tensor attentionMask;  // (batch, samples) int64, 1 on real samples, 0 on padding
    std::vector<int64_t> lengths; // samples per clip before padding
};

// Normalises one clip in place (float64 statistics, population variance).
// The variance floor. The golden reference data (computed by the reference Python stack) fit
// (x - mean) / sqrt(var + eps) with eps = 1.0004e-5 on every clip (least squares over 16000
// and 11000 samples), although the case notes say 1e-7; we follow the numbers. For real audio
// (variance 1e-3..1e-1) the two differ by less than 1e-2 relative.
constexpr double kWav2vec2VarianceFloor = 1e-5;

void normalizeWav2vec2Clip(float* samples, int64_t count);

// Clips must be mono at the preprocessor's sampling rate; an empty clip is an error.
Wav2vec2Batch prepareWav2vec2Batch(const std::vector<std::vector<float>>& clips, const Wav2vec2PreprocessorConfig& config);

}  // namespace grym
