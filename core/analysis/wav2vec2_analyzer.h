#pragma once
// The wav2vec2 half of audio analysis: runs a loaded model over 16 kHz mono audio in
// windows (bounded memory for any length) and keeps only what the analysis reports:
// per-layer embedding statistics, time-pooled frame embeddings for the segmenter, and the
// greedy CTC transcript when the model has a CTC head.
#include "models/wav2vec2/config.h"
#include "models/wav2vec2/model.h"

#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace grym {

class CtcVocabulary;
class Wav2vec2AnalysisStream;

struct Wav2vec2AnalysisOptions {
    double windowSeconds = 20.0;   // audio per forward pass; attention memory grows with its square
    double poolSeconds = 0.25;     // frame embeddings are averaged into steps this long
};

struct LayerEmbeddingStats {
    int layer = 0;              // 0 = encoder input (after the positional conv), L = last layer
    double mean = 0;            // over all frames and dimensions
    double std = 0;
    double meanFrameNorm = 0;   // average L2 norm of a frame's embedding
    double meanAbs = 0;
};

struct Wav2vec2Analysis {
    double durationSeconds = 0;
    int64_t frames = 0;                       // model frames over the whole input
    double frameRate = 0;                     // model frames per second
    int windows = 0;
    std::vector<LayerEmbeddingStats> layers;  // num_hidden_layers + 1 entries
    bool hasTranscript = false;
    std::string transcript;
    // Last-layer embeddings averaged over poolSeconds: pooledFrames x hiddenSize, row-major.
    std::vector<float> pooledEmbeddings;
    int64_t pooledFrames = 0;
    int64_t hiddenSize = 0;
    double pooledRate = 0;                    // pooled rows per second
};

// Called before each window with (window index, window count); returning false cancels
// (the analyzer then throws TaskCancelled).
using WindowCallback = std::function<bool(int window, int windows)>;

class Wav2vec2Analyzer {
public:
    // Loads config.json, the checkpoint, preprocessor_config.json and (with a CTC head) vocab.json.
    explicit Wav2vec2Analyzer(const std::string& folder, const LoadOptions& runtime = {});
    // Wraps an already built model (benchmarks, tests); no transcript without a vocabulary.
    Wav2vec2Analyzer(Wav2vec2Model model, Wav2vec2PreprocessorConfig preprocessor, std::shared_ptr<const CtcVocabulary> vocabulary = {});
    ~Wav2vec2Analyzer();
    Wav2vec2Analyzer(Wav2vec2Analyzer&&) noexcept;
    Wav2vec2Analyzer& operator=(Wav2vec2Analyzer&&) noexcept;

    int sampleRate() const { return preprocessor_.samplingRate; }
    const Wav2vec2Model& model() const { return model_; }
    bool hasTranscriptHead() const;

    // `mono` at sampleRate(). Throws ModelError for audio shorter than the receptive field.
    Wav2vec2Analysis analyze(const std::vector<float>& mono, const Wav2vec2AnalysisOptions& options = {},
                             const WindowCallback& onWindow = {}) const;

    // The same analysis fed block by block, so a long recording is never held whole: the
    // stream keeps at most one window plus the minimum remainder. `expectedSamples` (may be
    // an estimate, 0 if unknown) only sets the window count reported to onWindow.
    // The analyzer must outlive the stream.
    Wav2vec2AnalysisStream stream(const Wav2vec2AnalysisOptions& options = {}, WindowCallback onWindow = {},
                                  int64_t expectedSamples = 0) const;

    // Memory the model needs: weights plus the working set of one window.
    uint64_t estimatedMemoryBytes(const Wav2vec2AnalysisOptions& options = {}) const;

private:
    friend class Wav2vec2AnalysisStream;
    Wav2vec2PreprocessorConfig preprocessor_;  // before model_: the cheap file is checked first
    Wav2vec2Model model_;
    std::shared_ptr<const CtcVocabulary> vocabulary_;
};

class Wav2vec2AnalysisStream {
public:
    ~Wav2vec2AnalysisStream();
    Wav2vec2AnalysisStream(Wav2vec2AnalysisStream&&) noexcept;
    Wav2vec2AnalysisStream& operator=(Wav2vec2AnalysisStream&&) noexcept;

    // Samples at the analyzer's rate; runs the model on every window that is complete.
    void push(const float* samples, size_t count);
    // Runs the last window; throws ModelError when the whole input was shorter than the
    // model's receptive field. Call once.
    Wav2vec2Analysis finish();

    size_t bufferedSamples() const;
    size_t peakBufferedSamples() const;  // the most held at once so far

private:
    friend class Wav2vec2Analyzer;
    struct State;
    explicit Wav2vec2AnalysisStream(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

// {frames, frame_rate, windows, layers:[{layer, mean, std, mean_frame_norm, mean_abs}], transcript?}
nlohmann::json toJson(const Wav2vec2Analysis& analysis);

// Window boundaries [begin, end) in samples covering `samples`: windows of `window` samples,
// a remainder shorter than `minimum` folded into the previous window.
std::vector<std::pair<int64_t, int64_t>> planWindows(int64_t samples, int64_t window, int64_t minimum);

}  // namespace grym
