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
void normalizeWav2vec2Clip(float* samples, int64_t count);

// Clips must be mono at the preprocessor's sampling rate; an empty clip is an error.
Wav2vec2Batch prepareWav2vec2Batch(const std::vector<std::vector<float>>& clips, const Wav2vec2PreprocessorConfig& config);

}  // namespace grym
