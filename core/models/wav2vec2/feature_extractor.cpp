#include "models/wav2vec2/feature_extractor.h"

#include "common/error.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

namespace grym {

void normalizeWav2vec2Clip(float* samples, int64_t count) {
    if (count <= 0) return;
    double sum = 0.0;
    for (int64_t i = 0; i < count; ++i) sum += samples[i];
    const double mean = sum / static_cast<double>(count);
    double squares = 0.0;
    for (int64_t i = 0; i < count; ++i) {
        const double d = samples[i] - mean;
        squares += d * d;
    }
    const double scale = 1.0 / std::sqrt(squares / static_cast<double>(count) + kWav2vec2VarianceFloor);
    for (int64_t i = 0; i < count; ++i) samples[i] = static_cast<float>((samples[i] - mean) * scale);
}

Wav2vec2Batch prepareWav2vec2Batch(const std::vector<std::vector<float>>& clips, const Wav2vec2PreprocessorConfig& config) {
    if (clips.empty()) throw ModelError("wav2vec2 feature extractor: no audio clips given");
    Wav2vec2Batch batch;
    int64_t longest = 0;
    for (size_t i = 0; i < clips.size(); ++i) {
        if (clips[i].empty()) throw ModelError("wav2vec2 feature extractor: clip " + std::to_string(i) + " is empty");
        for (float s : clips[i])
            if (!std::isfinite(s))
                throw ModelError("wav2vec2 feature extractor: clip " + std::to_string(i) + " holds NaN or Inf samples");
        batch.lengths.push_back(static_cast<int64_t>(clips[i].size()));
        longest = std::max(longest, batch.lengths.back());
    }
    const auto count = static_cast<int64_t>(clips.size());
    batch.inputValues = torch::full({count, longest}, config.paddingValue, torch::kFloat32);
    batch.attentionMask = torch::zeros({count, longest}, torch::kInt64);
    for (int64_t i = 0; i < count; ++i) {
        float* row = batch.inputValues[i].data_ptr<float>();
        std::copy(clips[i].begin(), clips[i].end(), row);
        if (config.doNormalize) normalizeWav2vec2Clip(row, batch.lengths[i]);
        batch.attentionMask[i].narrow(0, 0, batch.lengths[i]).fill_(1);
    }
    return batch;
}

}  // namespace grym
