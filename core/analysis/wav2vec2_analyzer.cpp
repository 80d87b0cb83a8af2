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

ModelError tooShort(int64_t samples, int64_t receptive, int rate) {
    return ModelError("wav2vec2 analysis: the audio lasts " + std::to_string(samples * 1000 / rate) +
                      " ms, shorter than the model's receptive field of " + std::to_string(receptive * 1000 / rate) +
                      " ms (" + std::to_string(receptive) + " samples at " + std::to_string(rate) + " Hz)");
}

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

Wav2vec2Analyzer::Wav2vec2Analyzer(const std::string& folder, const LoadOptions& runtime)
    : preprocessor_(loadWav2vec2PreprocessorConfig(folderFile(folder, "preprocessor_config.json"))),
      model_(Wav2vec2Model::load(folder, runtime)) {
    if (model_.hasCtcHead()) vocabulary_ = std::make_shared<CtcVocabulary>(CtcVocabulary::load(folder));
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

struct Wav2vec2AnalysisStream::State {
    const Wav2vec2Analyzer* analyzer = nullptr;
    WindowCallback onWindow;
    int rate = 0;
    int64_t receptive = 0, window = 0, minimum = 0, poolFrames = 1;
    int expectedWindows = 0;
    std::vector<float> buffer;  // samples not yet analysed
    size_t peakBuffered = 0;
    int64_t total = 0;
    bool finished = false;

    Wav2vec2Analysis result;
    std::vector<LayerAccumulator> layers;
    std::vector<double> pool;
    int64_t pooled = 0;

    void flushPool() {
        for (double& v : pool) {
            result.pooledEmbeddings.push_back(static_cast<float>(v / static_cast<double>(pooled)));
            v = 0.0;
        }
        ++result.pooledFrames;
        pooled = 0;
    }

    // Runs the model on the first `length` buffered samples and folds the outputs into the sums.
    void analyseWindow(int64_t length) {
        const int index = result.windows;
        if (onWindow && !onWindow(index, std::max(expectedWindows, index + 1))) throw TaskCancelled();
        const Wav2vec2Config& config = analyzer->model_.config();
        const Wav2vec2Batch batch =
            prepareWav2vec2Batch({std::vector<float>(buffer.begin(), buffer.begin() + length)}, analyzer->preprocessor_);
        buffer.erase(buffer.begin(), buffer.begin() + length);
        const Wav2vec2Output out = analyzer->model_.forward(batch.inputValues, {}, /*allHiddenStates=*/true);
        ++result.windows;

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

        if (analyzer->hasTranscriptHead() && out.logits.defined()) {
            const std::string text = analyzer->vocabulary_->greedyDecode(out.logits[0]);
            if (!text.empty()) result.transcript += (result.transcript.empty() ? "" : " ") + text;
        }
    }
};

Wav2vec2AnalysisStream Wav2vec2Analyzer::stream(const Wav2vec2AnalysisOptions& options, WindowCallback onWindow,
                                                 int64_t expectedSamples) const {
    if (!(options.windowSeconds > 0) || !(options.poolSeconds > 0))
        throw ModelError("wav2vec2 analysis: window and pool lengths must be positive");
    const Wav2vec2Config& config = model_.config();
    auto s = std::make_unique<Wav2vec2AnalysisStream::State>();
    s->analyzer = this;
    s->onWindow = std::move(onWindow);
    s->rate = preprocessor_.samplingRate;
    s->receptive = config.receptiveField();
    int64_t stride = 1;
    for (int64_t st : config.convStride) stride *= st;
    Wav2vec2Analysis& r = s->result;
    r.frameRate = static_cast<double>(s->rate) / static_cast<double>(stride);
    r.hiddenSize = config.hiddenSize;
    s->poolFrames = std::max<int64_t>(1, std::llround(options.poolSeconds * r.frameRate));
    r.pooledRate = r.frameRate / static_cast<double>(s->poolFrames);
    s->window = std::max<int64_t>(s->receptive, std::llround(options.windowSeconds * s->rate));
    s->minimum = std::max<int64_t>(s->receptive, s->rate);
    s->expectedWindows = static_cast<int>(planWindows(expectedSamples, s->window, s->minimum).size());
    s->layers.resize(static_cast<size_t>(config.numHiddenLayers + 1));
    s->pool.assign(static_cast<size_t>(config.hiddenSize), 0.0);
    return Wav2vec2AnalysisStream(std::move(s));
}

Wav2vec2AnalysisStream::Wav2vec2AnalysisStream(std::unique_ptr<State> state) : state_(std::move(state)) {}
Wav2vec2AnalysisStream::~Wav2vec2AnalysisStream() = default;
Wav2vec2AnalysisStream::Wav2vec2AnalysisStream(Wav2vec2AnalysisStream&&) noexcept = default;
Wav2vec2AnalysisStream& Wav2vec2AnalysisStream::operator=(Wav2vec2AnalysisStream&&) noexcept = default;

size_t Wav2vec2AnalysisStream::bufferedSamples() const { return state_->buffer.size(); }
size_t Wav2vec2AnalysisStream::peakBufferedSamples() const { return state_->peakBuffered; }

void Wav2vec2AnalysisStream::push(const float* samples, size_t count) {
    State& s = *state_;
    if (s.finished) throw ModelError("wav2vec2 analysis: the stream was already finished");
    s.buffer.insert(s.buffer.end(), samples, samples + count);
    s.total += static_cast<int64_t>(count);
    s.peakBuffered = std::max(s.peakBuffered, s.buffer.size());
    // A window runs once the samples after it make a remainder the plan would not fold into
    // it (see planWindows); the rest waits for more input or finish().
    while (static_cast<int64_t>(s.buffer.size()) >= s.window + s.minimum) s.analyseWindow(s.window);
}

Wav2vec2Analysis Wav2vec2AnalysisStream::finish() {
    State& s = *state_;
    if (s.finished) throw ModelError("wav2vec2 analysis: the stream was already finished");
    s.finished = true;
    if (s.total < s.receptive)
        throw tooShort(s.total, s.receptive, s.rate);
    // What is left is one window, or a window plus a remainder too short to stand alone.
    if (!s.buffer.empty()) s.analyseWindow(static_cast<int64_t>(s.buffer.size()));
    Wav2vec2Analysis& result = s.result;
    if (s.pooled > 0) s.flushPool();
    result.durationSeconds = static_cast<double>(s.total) / s.rate;
    result.hasTranscript = s.analyzer->hasTranscriptHead();
    for (size_t l = 0; l < s.layers.size(); ++l) {
        const LayerAccumulator& a = s.layers[l];
        LayerEmbeddingStats st;
        st.layer = static_cast<int>(l);
        if (a.values > 0) {
            st.mean = a.sum / static_cast<double>(a.values);
            st.std = std::sqrt(std::max(0.0, a.sumSquares / static_cast<double>(a.values) - st.mean * st.mean));
            st.meanAbs = a.sumAbs / static_cast<double>(a.values);
            st.meanFrameNorm = a.sumFrameNorms / static_cast<double>(a.frames);
        }
        result.layers.push_back(st);
    }
    return std::move(result);
}

Wav2vec2Analysis Wav2vec2Analyzer::analyze(const std::vector<float>& mono, const Wav2vec2AnalysisOptions& options,
                                          const WindowCallback& onWindow) const {
    const int64_t receptive = model_.config().receptiveField();
    const int rate = preprocessor_.samplingRate;
    const auto samples = static_cast<int64_t>(mono.size());
    if (samples < receptive)  // refused before any work, as the stream would at its end
        throw tooShort(samples, receptive, rate);
    Wav2vec2AnalysisStream s = stream(options, onWindow, samples);
    constexpr size_t kPiece = 1 << 16;
    for (size_t at = 0; at < mono.size(); at += kPiece) s.push(mono.data() + at, std::min(kPiece, mono.size() - at));
    return s.finish();
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
