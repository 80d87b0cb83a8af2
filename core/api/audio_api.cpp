#include "api/audio_api.h"

#include "api/clip_provenance.h"
#include "audio/audio_file.h"
#include "audio/clip_export.h"
#include "audio/resampler.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace grym {

namespace {

constexpr int kMinSampleRate = 1000;
constexpr int kMaxSampleRate = 768000;

}  // namespace

AudioApi::AudioApi(AudioApiConfig config) : config_(std::move(config)) {
    memory_ = std::make_unique<MemoryMonitor>(config_.memory);
    if (config_.sampleMemory) memory_->startSampling();
    router_ = std::make_unique<TaskRouter>(registry_, config_.router);
    bridge_ = std::make_unique<ServiceBridge>(*router_, [](const AudioBuffer& audio, int rate) {
        return resample(audio, rate);
    });
    routerRunner_ = router_->runner();
    queue_ = std::make_unique<TaskQueue>(config_.queue, [this](const AudioTask& task, const ProgressCallback& progress,
                                                               const CancellationToken& cancel) {
        return runTask(task, progress, cancel);
    });
}

// Runs on a queue worker. The router loads the task's service when it is not loaded yet; that
// can take long, so clients see a "loading model" stage and the load time in the metrics.
TaskResult AudioApi::runTask(const AudioTask& task, const ProgressCallback& progress, const CancellationToken& cancel) {
    const std::shared_ptr<ModelService> service = registry_.find(task.serviceId);
    const bool needsLoad = service && !service->isReady();
    if (needsLoad) {
        ProgressUpdate loading;
        loading.stage = "loading model";
        progress(loading);
    }
    TaskResult result = routerRunner_(task, progress, cancel);
    if (!result.metrics.is_object()) result.metrics = nlohmann::json::object();
    if (needsLoad) result.metrics["model_load_seconds"] = service->info().loadSeconds;
    // Every generated clip carries its settings from here on: files, history, the app's library.
    if (task.type == TaskType::Generation && result.audio && service) {
        if (!result.data.is_object()) result.data = nlohmann::json::object();
        result.data[kProvenanceKey] = toJson(makeProvenance(task.input, result, service->info()));
    }
    return result;
}

AudioApi::~AudioApi() { shutdown(); }

void AudioApi::shutdown() {
    if (queue_) queue_->shutdown(ShutdownMode::Cancel);
    if (memory_) memory_->stopSampling();
}

void AudioApi::addService(std::shared_ptr<ModelService> service) { registry_.add(std::move(service)); }

std::shared_ptr<ModelService> AudioApi::removeService(const std::string& id) { return registry_.remove(id); }

std::shared_ptr<ModelService> AudioApi::service(const std::string& id) const { return registry_.find(id); }

std::shared_ptr<ModelService> AudioApi::serviceFor(TaskType type) const { return registry_.findForType(type); }

std::vector<std::shared_ptr<ModelService>> AudioApi::allServices() const { return registry_.all(); }

std::shared_ptr<ModelService> AudioApi::requireService(TaskType type) const {
    auto s = registry_.findForType(type);
    if (!s)
        throw ApiError(std::string("no ") + (type == TaskType::Generation ? "generation" : "analysis") +
                       " service is configured (install a model in the model manager or pass --model)");
    return s;
}

ExportResult AudioApi::exportClip(const AudioBuffer& clip, const std::string& path, const ExportOptions& options) const {
    return grym::exportClip(clip, path, options);
}

EncodedExport AudioApi::encodeExport(const AudioBuffer& clip, const std::string& name, const ExportOptions& options) const {
    return grym::encodeExport(clip, name, options);
}

void AudioApi::validateAudio(const AudioBuffer& audio, const char* fieldName) const {
    if (audio.empty() || audio.channels <= 0) throw FieldError(fieldName, "holds no audio");
    if (audio.sampleRate < kMinSampleRate || audio.sampleRate > kMaxSampleRate)
        throw FieldError(fieldName, "sample rate " + std::to_string(audio.sampleRate) + " Hz is out of range");
    if (audio.samples.size() % static_cast<size_t>(audio.channels) != 0)
        throw FieldError(fieldName, "sample count is not a multiple of the channel count");
    if (audio.duration() > config_.limits.maxAnalyzeSeconds)
        throw FieldError(fieldName, "is " + std::to_string(audio.duration()) + " s long; the limit is " +
                                        std::to_string(config_.limits.maxAnalyzeSeconds) + " s");
    for (float s : audio.samples)
        if (!std::isfinite(s)) throw FieldError(fieldName, "contains NaN or infinite samples");
}

TaskHandle AudioApi::remember(TaskHandle handle, std::string kind, nlohmann::json request) {
    std::lock_guard<std::mutex> lock(tasksMutex_);
    tasks_[handle.id()] = ApiTaskRecord{handle, std::move(kind), std::move(request)};
    // Forget the oldest finished tasks beyond the limit; running ones are always kept.
    size_t finished = 0;
    for (const auto& [id, rec] : tasks_) finished += isFinished(rec.handle.state()) ? 1 : 0;
    for (auto it = tasks_.begin(); it != tasks_.end() && finished > config_.keepFinishedTasks;) {
        if (isFinished(it->second.handle.state())) {
            it = tasks_.erase(it);
            --finished;
        } else {
            ++it;
        }
    }
    return handle;
}

TaskHandle AudioApi::generateAudio(const GenerateRequest& request, TaskCallbacks callbacks) {
    validate(request, config_.limits);
    auto svc = requireService(TaskType::Generation);
    TaskInput input;
    input.prompt = request.prompt;
    input.parameters = toTaskParameters(request);
    AudioTask task = router_->makeTask(TaskType::Generation, std::move(input), std::nullopt, svc->id(),
                                       "generate: " + request.prompt);
    return remember(queue_->submit(std::move(task), std::move(callbacks)), "generate", toJson(request));
}

std::vector<TaskHandle> AudioApi::generateAudioBatch(const GenerateRequest& request, TaskCallbacks callbacks) {
    validate(request, config_.limits);
    GenerateRequest one = request;
    one.variations = 1;
    const int64_t firstSeed = request.seed ? *request.seed : static_cast<int64_t>(std::random_device{}() & 0x7fffffffu);
    std::vector<TaskHandle> handles;
    for (int i = 0; i < request.variations; ++i) {
        one.seed = firstSeed + i;
        handles.push_back(generateAudio(one, callbacks));
    }
    return handles;
}

TaskHandle AudioApi::analyzeAudio(AudioBuffer audio, TaskCallbacks callbacks, std::optional<TaskPriority> priority) {
    validateAudio(audio, "audio");
    auto svc = requireService(TaskType::Analysis);
    nlohmann::json request = {{"sample_rate", audio.sampleRate},
                              {"channels", audio.channels},
                              {"duration", audio.duration()}};
    TaskInput input;
    input.audio = std::move(audio);
    AudioTask task = router_->makeTask(TaskType::Analysis, std::move(input), priority, svc->id(), "analyze");
    return remember(queue_->submit(std::move(task), std::move(callbacks)), "analyze", std::move(request));
}

TaskHandle AudioApi::analyzeFile(const std::string& path, TaskCallbacks callbacks, std::optional<TaskPriority> priority) {
    const AudioFileInfo info = probeAudioFile(path);
    if (info.duration() > config_.limits.maxAnalyzeSeconds)
        throw FieldError("path", path + " is " + std::to_string(info.duration()) + " s long; the limit is " +
                                     std::to_string(config_.limits.maxAnalyzeSeconds) + " s");
    auto svc = requireService(TaskType::Analysis);
    nlohmann::json request = {{"path", path},
                              {"sample_rate", info.sampleRate},
                              {"channels", info.channels},
                              {"duration", info.duration()}};
    TaskInput input;
    input.parameters = {{"path", path}};
    AudioTask task = router_->makeTask(TaskType::Analysis, std::move(input), priority, svc->id(), "analyze " + path);
    return remember(queue_->submit(std::move(task), std::move(callbacks)), "analyze", std::move(request));
}

TaskHandle AudioApi::generateVariation(const AudioBuffer& clip, const GenerateRequest& request, double strength,
                                       const nlohmann::json& analysis, TaskCallbacks callbacks) {
    validate(request, config_.limits);
    validateAudio(clip, "clip");
    if (!std::isfinite(strength) || strength <= 0.0 || strength > 1.0)
        throw FieldError("strength", "must be more than 0 and at most 1");
    auto generator = requireService(TaskType::Generation);
    TaskInput source;
    source.audio = clip;
    TaskResult analysed;
    analysed.data = analysis.is_object() ? analysis : nlohmann::json::object();
    nlohmann::json params = toTaskParameters(request);
    params["prompt"] = request.prompt;
    params["strength"] = strength;
    params["service"] = generator->id();
    HandoffContext ctx = bridge_->transferContext(HandoffKind::AnalysisToGeneration, "clip", source, analysed, params);
    const auto issues = bridge_->validateHandoff(ctx);
    for (const auto& issue : issues)
        if (issue.severity == HandoffIssue::Severity::Error) throw FieldError("clip", issue.message);
    nlohmann::json req = toJson(request);
    req["strength"] = strength;
    return remember(bridge_->executeHandoff(ctx, *queue_, std::nullopt, std::move(callbacks)), "variation",
                    std::move(req));
}

TaskHandle AudioApi::submitClipEdit(const AudioBuffer& clip, const GenerateRequest& request, nlohmann::json edit,
                                    TaskCallbacks callbacks) {
    if (request.loop) throw FieldError("loop", "a loop is made from the prompt alone, not from a clip");
    if (request.variations != 1) throw FieldError("variations", "must be 1 when editing a clip");
    if (!request.latentsFile.empty()) throw FieldError("latents", "are not taken when editing a clip");
    auto svc = requireService(TaskType::Generation);
    TaskInput input;
    input.prompt = request.prompt;
    input.audio = clip;
    input.parameters = toTaskParameters(request);
    input.parameters.update(edit);
    nlohmann::json record = toJson(request);
    record.update(edit);
    const std::string kind = edit.value("edit", std::string("edit"));
    AudioTask task = router_->makeTask(TaskType::Generation, std::move(input), std::nullopt, svc->id(),
                                       kind + ": " + request.prompt);
    return remember(queue_->submit(std::move(task), std::move(callbacks)), kind, std::move(record));
}

TaskHandle AudioApi::inpaintClip(const AudioBuffer& clip, const GenerateRequest& request, ClipRange range,
                                 TaskCallbacks callbacks) {
    GenerateRequest checked = request;
    checked.durationSeconds = std::clamp(clip.duration(), config_.limits.minGenerateSeconds, config_.limits.maxGenerateSeconds);
    validate(checked, config_.limits);
    validateAudio(clip, "clip");
    validate(range, clip.duration());
    return submitClipEdit(clip, checked,
                          {{"edit", "inpaint"}, {"range_start", range.startSeconds}, {"range_end", range.endSeconds}},
                          std::move(callbacks));
}

TaskHandle AudioApi::continueClip(const AudioBuffer& clip, const GenerateRequest& request, TaskCallbacks callbacks) {
    validate(request, config_.limits);
    validateAudio(clip, "clip");
    return submitClipEdit(clip, request, {{"edit", "continue"}}, std::move(callbacks));
}

TaskHandle AudioApi::analyzeGenerated(TaskId generationTask, TaskCallbacks callbacks) {
    auto rec = task(generationTask);
    if (!rec) throw FieldError("task", "no task " + std::to_string(generationTask));
    if (rec->handle.state() != TaskState::Succeeded)
        throw FieldError("task", "task " + std::to_string(generationTask) + " has not finished successfully");
    TaskResult generated = rec->handle.result().get();
    TaskInput source;
    source.prompt = rec->request.value("prompt", std::string());
    source.parameters = rec->request;
    HandoffContext ctx =
        bridge_->transferContext(HandoffKind::GenerationToAnalysis, rec->handle.status().serviceId, source, generated);
    for (const auto& issue : bridge_->validateHandoff(ctx))
        if (issue.severity == HandoffIssue::Severity::Error) throw FieldError("task", issue.message);
    return remember(bridge_->executeHandoff(ctx, *queue_, std::nullopt, std::move(callbacks)), "analyze",
                    {{"generated_by", generationTask}});
}

void AudioApi::loadService(const std::string& id) {
    auto s = registry_.find(id);
    if (!s) throw FieldError("service", "no service '" + id + "'");
    s->load();
}

void AudioApi::unloadService(const std::string& id) {
    auto s = registry_.find(id);
    if (!s) throw FieldError("service", "no service '" + id + "'");
    s->unload();
}

std::optional<ApiTaskRecord> AudioApi::task(TaskId id) const {
    std::lock_guard<std::mutex> lock(tasksMutex_);
    auto it = tasks_.find(id);
    if (it == tasks_.end()) return std::nullopt;
    return it->second;
}

std::vector<ApiTaskRecord> AudioApi::tasks() const {
    std::lock_guard<std::mutex> lock(tasksMutex_);
    std::vector<ApiTaskRecord> out;
    for (auto it = tasks_.rbegin(); it != tasks_.rend(); ++it) out.push_back(it->second);
    return out;
}

bool AudioApi::cancel(TaskId id) {
    auto rec = task(id);
    return rec && rec->handle.cancel();
}

nlohmann::json toJson(const ServiceInfo& i) {
    return {{"id", i.id},
            {"status", toString(i.status)},
            {"message", i.statusMessage},
            {"device", toString(i.device)},
            {"precision", toString(i.precision)},
            {"load_seconds", i.loadSeconds},
            {"estimated_memory_bytes", i.estimatedMemoryBytes},
            {"model_path", i.modelPath}};
}

nlohmann::json toJson(const TaskStatus& s) {
    nlohmann::json progress = {{"fraction", s.progress.fraction},
                               {"step", s.progress.step},
                               {"total_steps", s.progress.totalSteps},
                               {"stage", s.progress.stage},
                               {"seconds_remaining", s.progress.secondsRemaining}};
    return {{"id", s.id},
            {"type", toString(s.type)},
            {"state", toString(s.state)},
            {"priority", toString(s.priority)},
            {"progress", progress},
            {"service", s.serviceId},
            {"label", s.label},
            {"error", s.error},
            {"queued_seconds", s.queuedSeconds},
            {"run_seconds", s.runSeconds}};
}

nlohmann::json toJson(const MemorySnapshot& m) {
    nlohmann::json j = {{"system_total_bytes", m.systemTotalBytes},
                        {"system_used_bytes", m.systemUsedBytes},
                        {"system_available_bytes", m.systemAvailableBytes},
                        {"process_rss_bytes", m.processRssBytes},
                        {"process_peak_rss_bytes", m.processPeakRssBytes},
                        {"heap_in_use_bytes", m.heapInUseBytes}};
    if (m.gpu.available)
        j["gpu"] = {{"source", m.gpu.source}, {"total_bytes", m.gpu.totalBytes}, {"used_bytes", m.gpu.usedBytes},
                    {"free_bytes", m.gpu.freeBytes}};
    if (m.torchCuda.available)
        j["torch_cuda"] = {{"allocated_bytes", m.torchCuda.allocatedBytes},
                           {"peak_allocated_bytes", m.torchCuda.peakAllocatedBytes},
                           {"reserved_bytes", m.torchCuda.reservedBytes}};
    return j;
}

nlohmann::json AudioApi::getServiceStatus() {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& s : registry_.all()) out[s->id()] = toJson(s->info());
    for (const char* id : {"wav2vec2", "audioldm"})
        if (!out.contains(id)) out[id] = {{"id", id}, {"status", "not configured"}};
    out["memory"] = toJson(memory_->snapshot());
    out["queue"] = {{"queued", queue_->queuedCount()},
                    {"running", queue_->runningCount()},
                    {"max_queued", queue_->config().maxQueuedTasks}};
    out["limits"] = toJson(config_.limits);
    return out;
}

}  // namespace grym
