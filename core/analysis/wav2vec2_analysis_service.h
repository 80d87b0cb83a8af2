#pragma once
// The analysis ModelService ("wav2vec2"): DSP features of any decoded audio at its own rate and
// channels (docs/ANALYSIS.md) plus, when a wav2vec2 model folder is loaded (fed 16 kHz mono),
// per-layer embedding statistics, the CTC transcript and segments/repeated sections from the
// self-similarity of frame embeddings.
// Without a model it still returns the DSP features and says the model part is missing.
#include "analysis/wav2vec2_analyzer.h"
#include "platform/process_memory.h"
#include "orchestration/model_service.h"

#include <memory>
#include <mutex>
#include <string>

namespace grym {

struct Wav2vec2ServiceOptions {
    std::string modelDir;                 // transformers folder; empty: DSP-only analysis
    LoadOptions runtime;
    Wav2vec2AnalysisOptions analysis;
    double repeatThreshold = 0.9;         // cosine similarity for "repeated section"
};

class Wav2vec2AnalysisService : public ModelService {
public:
    explicit Wav2vec2AnalysisService(Wav2vec2ServiceOptions options = {});
    ~Wav2vec2AnalysisService() override;

    std::string id() const override { return "wav2vec2"; }
    TaskType taskType() const override { return TaskType::Analysis; }
    ServiceInfo info() const override;
    uint64_t estimatedMemoryBytes() const override;

    void load() override;    // no-op without a model folder (the service is then DSP-only but Ready)
    void unload() override;

    // input.audio: any rate and channel count; or, without audio, input.parameters["path"]: a
    // file, decoded block by block so recordings of any length are analysed in bounded memory
    // (the path is opened as given: callers must not forward a remote client's parameters).
    // Either way the audio goes through in half-second blocks (as they are to the DSP features;
    // mixed to mono and resampled to the model's rate for the model) and only the analyses'
    // own windows are held. data = {features, patterns, model};
    // metrics = {load_seconds, analysis_seconds, real_time_factor, peak_memory_bytes,
    // audio_seconds, peak_buffered_samples (the most samples held at once by the pipeline)}.
    TaskResult run(const TaskInput& input, const ProgressCallback& progress, const CancellationToken& cancel) override;

private:
    Wav2vec2ServiceOptions options_;
    mutable std::mutex mutex_;
    ServiceInfo info_;
    std::shared_ptr<const Wav2vec2Analyzer> analyzer_;
};

}  // namespace grym
