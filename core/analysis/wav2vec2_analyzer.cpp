#include "analysis/wav2vec2_analyzer.h"

#include "common/error.h"
#include "models/wav2vec2/ctc_decoder.h"
#include "models/wav2vec2/feature_extractor.h"
#include "orchestration/model_service.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>

namespace grym {

namespace {

std::string folderFile(const std::string& folder, const char* name) { return (std::filesystem::path(folder) / name).string(); }

// Running sums for one layer's statistics.
struct LayerAccumulator {
    double sum = 0, sumSquares = 0, sumFrameNorms = 0, sumAbs = 0;
    int64_t frames = 0, values = 0;
};

}  // namespace

std::vector<std::pair<int64_t, int64_t>> planWindows(int64_t samples, int64_t window, int64_t minimum) {
    std::vector<std::pair<int64_t, int64_t>> plan;
    if (samples <= 0 || window <= 0) return plan;
    for (int64_t begin = 0; begin < samples; begin += window) plan.emplace_back(begin, std::min(samples, begin + window));
    if (plan.size() > 1 && plan.back().second - plan.back().first < minimum) {
        const int64_t end = plan.back().second;
        plan.pop_back();
        plan.back().second = end;
    }
    return plan;
}

Wav2vec2Analyzer::Wav2vec2Analyzer(const std::string& folder, const Wav2vec2RuntimeOptions& runtime)
    : preprocessor_(loadWav2vec2PreprocessorConfig(folderFile(folder, "preprocessor_config.json"))),
      model_(Wav2vec2Model::fromFolder(folder, runtime)) {
    if (model_.hasCtcHead()) vocabulary_ = std::make_shared<CtcVocabulary>(CtcVocabulary::fromFolder(folder));
}

Wav2vec2Analyzer::Wav2vec2Analyzer(Wav2vec2Model model, Wav2vec2PreprocessorConfig preprocessor,
                                   std::shared_ptr<const CtcVocabulary> vocabulary)
    : preprocessor_(preprocessor), model_(std::move(model)), vocabulary_(std::move(vocabulary)) {}

Wav2vec2Analyzer::~Wav2vec2Analyzer() = default;
Wav2vec2Analyzer::Wav2vec2Analyzer(Wav2vec2Analyzer&&) noexcept = default;
Wav2vec2Analyzer& Wav2vec2Analyzer::operator=(Wav2vec2Analyzer&&) noexcept = default;

bool Wav2vec2Analyzer::hasTranscriptHead() const { return model_.hasCtcHead() && vocabulary_ != nullptr; }

uint64_t Wav2vec2Analyzer::estimatedMemoryBytes(const Wav2vec2AnalysisOptions& options) const {
    const Wav2vec2Config& c = model_.config();
    const double samples = options.windowSeconds * preprocessor_.samplingRate;
    const double frames = static_cast<double>(c.outputFrames(static_cast<int64_t>(samples)));
    const double bytes = c10::elementSize(model_.runtime().dtype);
    // conv activations (first layer dominates), all hidden states, one attention score matrix set
    const double conv = 2.0 * c.convDim.front() * samples / c.convStride.front() * bytes;
    const double hidden = (c.numHiddenLayers + 3.0) * frames * std::max(c.hiddenSize, c.intermediateSize) * bytes;
    const double attention = 2.0 * c.numAttentionHeads * frames * frames * bytes;
    return static_cast<uint64_t>(model_.parameterBytes()) + static_cast<uint64_t>(conv + hidden + attention);
}

Wav2vec2Analysis Wav2vec2Analyzer::analyze(const std::vector<float>& mono, const Wav2vec2AnalysisOptions& options,
                                          const WindowCallback& onWindow) const {
    const Wav2vec2Config& config = model_.config();
    const int rate = preprocessor_.samplingRate;
    const auto samples = static_cast<int64_t>(mono.size());
    const int64_t receptive = config.receptiveField();
    if (samples < receptive)
        throw ModelError("wav2vec2 analysis: the audio lasts " + std::to_string(samples * 1000 / rate) +
                         " ms, shorter than the model's receptive field of " + std::to_string(receptive * 1000 / rate) +
                         " ms (" + std::to_string(receptive) + " samples at " + std::to_string(rate) + " Hz)");
    if (!(options.windowSeconds > 0) || !(options.poolSeconds > 0))
        throw ModelError("wav2vec2 analysis: window and pool lengths must be positive");

    int64_t stride = 1;
    for (int64_t s : config.convStride) stride *= s;
    Wav2vec2Analysis result;
    result.durationSeconds = static_cast<double>(samples) / rate;
    result.frameRate = static_cast<double>(rate) / static_cast<double>(stride);
    result.hiddenSize = config.hiddenSize;
    const int64_t poolFrames = std::max<int64_t>(1, std::llround(options.poolSeconds * result.frameRate));
    result.pooledRate = result.frameRate / static_cast<double>(poolFrames);

    const int64_t window = std::max<int64_t>(receptive, std::llround(options.windowSeconds * rate));
    const auto plan = planWindows(samples, window, std::max<int64_t>(receptive, rate));
    result.windows = static_cast<int>(plan.size());

    std::vector<LayerAccumulator> layers(static_cast<size_t>(config.numHiddenLayers + 1));
    std::vector<double> pool(static_cast<size_t>(config.hiddenSize), 0.0);
    int64_t pooled = 0;
    auto flushPool = [&] {
        for (double& v : pool) {
            result.pooledEmbeddings.push_back(static_cast<float>(v / static_cast<double>(pooled)));
            v = 0.0;
        }
        ++result.pooledFrames;
        pooled = 0;
    };

    for (size_t w = 0; w < plan.size(); ++w) {
        if (onWindow && !onWindow(static_cast<int>(w), result.windows)) throw TaskCancelled{};
        const auto [begin, end] = plan[w];
        const Wav2vec2Batch batch = prepareWav2vec2Batch({std::vector<float>(mono.begin() + begin, mono.begin() + end)}, preprocessor_);
        const Wav2vec2Output out = model_.forward(batch.inputValues, {}, /*allHiddenStates=*/true);

        for (size_t l = 0; l < layers.size() && l < out.hiddenStates.size(); ++l) {
            const torch::Tensor h = out.hiddenStates[l][0].to(torch::kCPU, torch::kFloat64);  // (frames, hidden)
            LayerAccumulator& a = layers[l];
            a.sum += h.sum().item<double>();
            a.sumSquares += h.pow(2).sum().item<double>();
            a.sumAbs += h.abs().sum().item<double>();
            a.sumFrameNorms += h.norm(2, -1).sum().item<double>();
            a.frames += h.size(0);
            a.values += h.numel();
        }

        const torch::Tensor last = out.lastHiddenState[0].to(torch::kCPU, torch::kFloat32).contiguous();
        const float* p = last.data_ptr<float>();
        for (int64_t f = 0; f < last.size(0); ++f) {
            for (int64_t d = 0; d < config.hiddenSize; ++d) pool[static_cast<size_t>(d)] += p[f * config.hiddenSize + d];
            if (++pooled == poolFrames) flushPool();
        }
        result.frames += last.size(0);

        if (hasTranscriptHead() && out.logits.defined()) {
            const std::string text = vocabulary_->greedyDecode(out.logits[0]);
            if (!text.empty()) result.transcript += (result.transcript.empty() ? "" : " ") + text;
        }
    }
    if (pooled > 0) flushPool();
    result.hasTranscript = hasTranscriptHead();

    for (size_t l = 0; l < layers.size(); ++l) {
        const LayerAccumulator& a = layers[l];
        LayerEmbeddingStats s;
        s.layer = static_cast<int>(l);
        if (a.values > 0) {
            s.mean = a.sum / static_cast<double>(a.values);
            s.std = std::sqrt(std::max(0.0, a.sumSquares / static_cast<double>(a.values) - s.mean * s.mean));
            s.meanAbs = a.sumAbs / static_cast<double>(a.values);
            s.meanFrameNorm = a.sumFrameNorms / static_cast<double>(a.frames);
        }
        result.layers.push_back(s);
    }
    return result;
}

nlohmann::json toJson(const Wav2vec2Analysis& a) {
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& s : a.layers)
        layers.push_back({{"layer", s.layer}, {"mean", s.mean}, {"std", s.std}, {"mean_frame_norm", s.meanFrameNorm}, {"mean_abs", s.meanAbs}});
    nlohmann::json j = {{"frames", a.frames}, {"frame_rate", a.frameRate}, {"windows", a.windows},
                        {"hidden_size", a.hiddenSize}, {"layers", layers}};
    if (a.hasTranscript) j["transcript"] = a.transcript;
    return j;
}

}  // namespace grym
