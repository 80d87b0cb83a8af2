#include "analysis/wav2vec2_analysis_service.h"

#include "analysis/dsp_features.h"
#include "analysis/wav2vec2_patterns.h"
#include "audio/audio_ops.h"
#include "audio/resampler.h"
#include "common/error.h"

#include <nlohmann/json.hpp>

#include <chrono>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/resource.h>
#endif

namespace grym {

namespace {

double secondsSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

nlohmann::json regionsJson(const std::vector<RepeatedSection>& sections) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : sections)
        out.push_back({{"first", {{"start", r.firstStart}, {"end", r.firstEnd}}},
                       {"second", {{"start", r.secondStart}, {"end", r.secondEnd}}},
                       {"similarity", r.similarity}});
    return out;
}

}  // namespace

Wav2vec2AnalysisService::Wav2vec2AnalysisService(Wav2vec2ServiceOptions options) : options_(std::move(options)) {
    info_.id = "wav2vec2";
    info_.modelPath = options_.modelDir;
    info_.device = options_.runtime.device.is_cuda() ? ComputeDevice::Cuda : ComputeDevice::Cpu;
    info_.precision = options_.runtime.dtype == torch::kFloat16    ? Precision::Fp16
                      : options_.runtime.dtype == torch::kBFloat16 ? Precision::Bf16
                                                                   : Precision::Fp32;
}

Wav2vec2AnalysisService::~Wav2vec2AnalysisService() = default;

ServiceInfo Wav2vec2AnalysisService::info() const {
    std::lock_guard<std::mutex> lock(mutex_);
    ServiceInfo i = info_;
    i.estimatedMemoryBytes = analyzer_ ? analyzer_->estimatedMemoryBytes(options_.analysis) : 0;
    return i;
}

uint64_t Wav2vec2AnalysisService::estimatedMemoryBytes() const {
    std::lock_guard<std::mutex> lock(mutex_);
    if (analyzer_) return analyzer_->estimatedMemoryBytes(options_.analysis);
    if (options_.modelDir.empty()) return 64ull << 20;  // DSP only
    // Before loading: a base-size model and one window's working set.
    return 1ull << 30;
}

void Wav2vec2AnalysisService::load() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (info_.status == ServiceStatus::Ready) return;
        info_.status = ServiceStatus::Loading;
        info_.statusMessage.clear();
    }
    const auto start = std::chrono::steady_clock::now();
    try {
        std::shared_ptr<const Wav2vec2Analyzer> analyzer;
        if (!options_.modelDir.empty()) analyzer = std::make_shared<Wav2vec2Analyzer>(options_.modelDir, options_.runtime);
        std::lock_guard<std::mutex> lock(mutex_);
        analyzer_ = std::move(analyzer);
        info_.loadSeconds = secondsSince(start);
        info_.status = ServiceStatus::Ready;
        info_.statusMessage = analyzer_ ? "" : "no wav2vec2 model folder configured: DSP features only";
    } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mutex_);
        info_.status = ServiceStatus::Failed;
        info_.statusMessage = e.what();
        throw;
    }
}

void Wav2vec2AnalysisService::unload() {
    std::lock_guard<std::mutex> lock(mutex_);
    analyzer_.reset();
    info_.status = ServiceStatus::Unloaded;
    info_.statusMessage.clear();
}

TaskResult Wav2vec2AnalysisService::run(const TaskInput& input, const ProgressCallback& progress, const CancellationToken& cancel) {
    if (!input.audio || input.audio->empty()) throw TaskError("wav2vec2 analysis: the task carries no audio");
    std::shared_ptr<const Wav2vec2Analyzer> analyzer;
    double loadSeconds = 0;
    std::string modelNote;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        analyzer = analyzer_;
        loadSeconds = info_.loadSeconds;
        if (!analyzer)
            modelNote = options_.modelDir.empty() ? "no wav2vec2 model folder given (--model DIR): model features are missing"
                                                  : "the wav2vec2 model is not loaded: model features are missing";
    }
    auto report = [&](double fraction, const char* stage, int step = 0, int total = 0) {
        if (cancel.cancelled()) throw TaskCancelled{};
        if (progress) {
            ProgressUpdate u;
            u.fraction = fraction;
            u.stage = stage;
            u.step = step;
            u.totalSteps = total;
            progress(u);
        }
    };

    const auto start = std::chrono::steady_clock::now();
    validateBuffer(*input.audio, "wav2vec2 analysis");
    report(0.0, "resampling");
    const int rate = analyzer ? analyzer->sampleRate() : 16000;
    AudioBuffer mono = mixToMono(*input.audio);
    if (mono.sampleRate != rate) mono = resample(mono, rate);

    report(0.05, "dsp");
    const dsp::DspFeatures dspFeatures = dsp::computeDspFeatures(mono.samples, mono.sampleRate);
    nlohmann::json features = dsp::toJson(dspFeatures);
    nlohmann::json patterns;
    nlohmann::json silent = features.value("silent_regions", nlohmann::json::array());
    patterns["silent_regions"] = silent;
    patterns["onsets_s"] = dspFeatures.onsetTimes;

    nlohmann::json model = {{"id", "wav2vec2"}, {"available", analyzer != nullptr}};
    if (analyzer) {
        const double dspShare = 0.1;
        const Wav2vec2Analysis a = analyzer->analyze(mono.samples, options_.analysis, [&](int window, int windows) {
            report(dspShare + (0.95 - dspShare) * window / std::max(1, windows), "wav2vec2", window + 1, windows);
            return true;
        });
        features["wav2vec2"] = toJson(a);
        if (a.hasTranscript) features["transcript"] = a.transcript;

        report(0.95, "segmenting");
        dsp::FeatureMatrix embeddings(static_cast<size_t>(a.pooledFrames), static_cast<size_t>(a.hiddenSize));
        embeddings.values = a.pooledEmbeddings;
        const dsp::Segmentation seg = dsp::segmentBySelfSimilarity(embeddings, a.pooledRate);
        patterns["segments"] = {{"source", "wav2vec2 embeddings"}, {"boundaries_s", seg.boundaries}};
        patterns["repeated_sections"] = regionsJson(findRepeatedSections(embeddings, a.pooledRate, seg.boundaries, options_.repeatThreshold));
        model["path"] = options_.modelDir;
        model["has_ctc_head"] = analyzer->hasTranscriptHead();
        model["parameters"] = analyzer->model().parameterCount();
    } else {
        report(0.9, "segmenting");
        const dsp::SpectralFrames spectra = dsp::analyseSpectra(mono.samples, mono.sampleRate);
        patterns["segments"] = {{"source", "dsp log-mel"}, {"boundaries_s", dspFeatures.segments.boundaries}};
        patterns["repeated_sections"] =
            regionsJson(findRepeatedSections(spectra.logMel, spectra.frameRate, dspFeatures.segments.boundaries, options_.repeatThreshold));
        features["wav2vec2"] = nullptr;
        model["missing"] = modelNote;
    }
    report(1.0, "done");

    TaskResult result;
    const double seconds = secondsSince(start);
    result.data = {{"features", features}, {"patterns", patterns}, {"model", model}};
    result.metrics = {{"load_seconds", loadSeconds},
                      {"analysis_seconds", seconds},
                      {"audio_seconds", input.audio->duration()},
                      {"real_time_factor", input.audio->duration() > 0 ? seconds / input.audio->duration() : 0.0},
                      {"peak_memory_bytes", peakResidentBytes()}};
    return result;
}

}  // namespace grym
