#include "analysis/wav2vec2_analysis_service.h"

#include "common/elapsed.h"

#include "analysis/dsp_features.h"
#include "analysis/wav2vec2_patterns.h"
#include "audio/audio_file.h"
#include "audio/audio_ops.h"
#include "audio/resampler.h"
#include "common/error.h"
#include "common/json_reader.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <optional>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/resource.h>
#endif

namespace grym {

namespace {


nlohmann::json regionsJson(const std::vector<RepeatedSection>& sections) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : sections)
        out.push_back({{"first", {{"start", r.firstStart}, {"end", r.firstEnd}}},
                       {"second", {{"start", r.secondStart}, {"end", r.secondEnd}}},
                       {"similarity", r.similarity}});
    return out;
}

// Where a task's audio comes from, block by block: the buffer it carries, or a file decoded
// block by block (AudioFileReader), so a long recording is never decoded whole.
class AudioBlockSource {
public:
    explicit AudioBlockSource(const AudioBuffer& buffer) : buffer_(&buffer) {}
    explicit AudioBlockSource(const std::string& path) : reader_(std::make_unique<AudioFileReader>(path)) {}

    int sampleRate() const { return buffer_ ? buffer_->sampleRate : reader_->info().sampleRate; }
    int channels() const { return buffer_ ? buffer_->channels : reader_->info().channels; }
    int64_t expectedFrames() const { return buffer_ ? buffer_->frames() : reader_->info().frames; }  // a file's is an estimate
    int64_t framesRead() const { return buffer_ ? position_ : reader_->framesRead(); }
    std::string name() const { return buffer_ ? std::string("the task's audio") : reader_->info().path; }

    // Up to maxFrames frames; empty at the end.
    AudioBuffer next(int64_t maxFrames) {
        if (reader_) return reader_->read(maxFrames);
        AudioBuffer block;
        block.sampleRate = buffer_->sampleRate;
        block.channels = buffer_->channels;
        const int64_t end = std::min(buffer_->frames(), position_ + maxFrames);
        block.samples.assign(buffer_->samples.begin() + position_ * block.channels, buffer_->samples.begin() + end * block.channels);
        position_ = end;
        return block;
    }

private:
    const AudioBuffer* buffer_ = nullptr;
    std::unique_ptr<AudioFileReader> reader_;
    int64_t position_ = 0;
};

}  // namespace

Wav2vec2AnalysisService::Wav2vec2AnalysisService(Wav2vec2ServiceOptions options) : options_(std::move(options)) {
    info_.id = "wav2vec2";
    info_.modelPath = options_.modelDir;
    info_.device = options_.runtime.device.is_cuda() ? ComputeDevice::Cuda : ComputeDevice::Cpu;
    info_.precision = options_.runtime.precision == WeightQuantization::Int8 ? Precision::Int8
                      : options_.runtime.dtype == torch::kFloat16    ? Precision::Fp16
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
    const JsonReader parameters(input.parameters, "wav2vec2 analysis parameters", throwTaskError);
    const bool hasPath = parameters.has("path");
    const std::string path = parameters.string("path", "");  // a file name
    const bool fromMemory = input.audio && !input.audio->empty();
    if (!fromMemory && !hasPath) throw TaskError("wav2vec2 analysis: the task carries no audio");
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
        cancel.throwIfCancelled();
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
    if (fromMemory) validateBuffer(*input.audio, "wav2vec2 analysis");
    AudioBlockSource source = fromMemory ? AudioBlockSource(*input.audio) : AudioBlockSource(path);
    const int64_t expectedFrames = source.expectedFrames();  // a file's is an estimate
    // Share of the progress bar taken by reading and analysing; segmenting takes the rest.
    constexpr double kStreamShare = 0.9;
    auto streamFraction = [&](int64_t framesDone) {
        return expectedFrames > 0 ? kStreamShare * std::min(1.0, static_cast<double>(framesDone) / static_cast<double>(expectedFrames)) : 0.0;
    };

    // Decode (file) or slice (buffer), half a second at a time, so only a block and each
    // analysis' own window are ever held. The DSP features take the block as it is (its own
    // rate and channels); only the model gets it mixed to mono at its rate.
    dsp::DspStream dspStream(source.sampleRate(), source.channels());
    std::optional<Wav2vec2AnalysisStream> modelStream;
    std::optional<StreamingResampler> resampler;
    if (analyzer) {
        const int modelRate = analyzer->sampleRate();
        const double ratio = static_cast<double>(modelRate) / source.sampleRate();
        modelStream.emplace(analyzer->stream(
            options_.analysis,
            [&](int window, int windows) {
                report(streamFraction(dspStream.framesPushed()), "wav2vec2", window + 1, windows);
                return true;
            },
            static_cast<int64_t>(std::llround(static_cast<double>(expectedFrames) * ratio))));
        if (source.sampleRate() != modelRate) resampler.emplace(1, source.sampleRate(), modelRate);
    }
    const int64_t blockFrames = std::max<int64_t>(1024, source.sampleRate() / 2);
    size_t peakBlockSamples = 0;
    report(0.0, "reading");
    for (;;) {
        report(streamFraction(dspStream.framesPushed()), "reading");
        AudioBuffer block = source.next(blockFrames);
        const bool last = block.empty();
        size_t blockSamples = block.samples.size();
        dspStream.push(block.samples.data(), static_cast<size_t>(block.frames()));
        if (modelStream) {
            const bool mixed = block.channels > 1;
            AudioBuffer mono = mixed ? mixToMono(block) : std::move(block);
            if (mixed) blockSamples += mono.samples.size();  // both alive until the next block
            mono.channels = 1;
            mono.sampleRate = source.sampleRate();
            if (resampler) {
                mono = resampler->process(mono, last);
                blockSamples += mono.samples.size();
            }
            modelStream->push(mono.samples.data(), mono.samples.size());
        }
        peakBlockSamples = std::max(peakBlockSamples, blockSamples);
        if (last) break;
    }
    if (dspStream.framesPushed() == 0) throw AudioError(source.name() + ": contains no audio (0 frames decoded)");
    const uint64_t peakBufferedSamples = peakBlockSamples + dspStream.peakBufferedSamples() + (modelStream ? modelStream->peakBufferedSamples() : 0);

    report(kStreamShare, "dsp");
    const dsp::DspFeatures dspFeatures = dspStream.finish();
    nlohmann::json features = dsp::toJson(dspFeatures);
    nlohmann::json patterns;
    nlohmann::json silent = features.value("silent_regions", nlohmann::json::array());
    patterns["silent_regions"] = silent;
    patterns["onsets_s"] = dspFeatures.onsets.times;

    nlohmann::json model = {{"id", "wav2vec2"}, {"available", analyzer != nullptr}};
    if (modelStream) {
        const Wav2vec2Analysis a = modelStream->finish();
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
        report(0.95, "segmenting");
        patterns["segments"] = {{"source", "dsp log-mel"}, {"boundaries_s", dspFeatures.segments.boundaries}};
        patterns["repeated_sections"] = regionsJson(findRepeatedSections(dspFeatures.logMel, dspFeatures.spectralFrameRate,
                                                                         dspFeatures.segments.boundaries, options_.repeatThreshold));
        features["wav2vec2"] = nullptr;
        model["missing"] = modelNote;
    }
    report(1.0, "done");

    TaskResult result;
    const double seconds = secondsSince(start);
    const double audioSeconds = static_cast<double>(source.framesRead()) / source.sampleRate();
    result.data = {{"features", features}, {"patterns", patterns}, {"model", model}};
    result.metrics = {{"load_seconds", loadSeconds},
                      {"analysis_seconds", seconds},
                      {"audio_seconds", audioSeconds},
                      {"real_time_factor", audioSeconds > 0 ? seconds / audioSeconds : 0.0},
                      {"peak_memory_bytes", peakResidentBytes()},
                      {"peak_buffered_samples", peakBufferedSamples}};
    return result;
}

}  // namespace grym
