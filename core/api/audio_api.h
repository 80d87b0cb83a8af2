#pragma once
// AudioApi: the one entry point that the GUI, the CLI and the local HTTP API use.
// It composes the orchestration layer (registry, router, queue, bridge, memory monitor);
// callers never reach below it. Every call validates its parameters (FieldError names the
// field) and returns a TaskHandle at once: progress, cancel and the result come through it.
#include "api/api_requests.h"
#include "orchestration/memory_monitor.h"
#include "orchestration/service_bridge.h"
#include "orchestration/service_registry.h"
#include "orchestration/task_queue.h"
#include "orchestration/task_router.h"

#include <map>
#include <memory>
#include <mutex>
#include <optional>

namespace grym {

struct ExportOptions;  // audio/clip_export.h
struct ExportResult;
struct EncodedExport;

struct AudioApiConfig {
    TaskQueueConfig queue;
    TaskRouterConfig router;
    ApiLimits limits;
    MemoryMonitorConfig memory;
    bool sampleMemory = true;       // run the MemoryMonitor's background sampler
    size_t keepFinishedTasks = 256; // finished tasks remembered for status/download lookups
};

// What the API remembers of a task it started.
struct ApiTaskRecord {
    TaskHandle handle;
    std::string kind;                                       // "generate", "analyze", "variation", ...
    nlohmann::json request = nlohmann::json::object();      // the validated request (no audio)
};

class AudioApi {
public:
    explicit AudioApi(AudioApiConfig config = {});
    ~AudioApi();  // cancels running work and joins the workers
    AudioApi(const AudioApi&) = delete;
    AudioApi& operator=(const AudioApi&) = delete;

    // Throws TaskError when a service with the same id is already there.
    void addService(std::shared_ptr<ModelService> service);
    // Removes a service (another models folder was chosen); tasks already running on it finish.
    // Returns it, or nullptr when there is no service with that id.
    std::shared_ptr<ModelService> removeService(const std::string& id);
    std::shared_ptr<ModelService> service(const std::string& id) const;
    // The service that runs tasks of this type; nullptr when none is configured.
    std::shared_ptr<ModelService> serviceFor(TaskType type) const;
    std::vector<std::shared_ptr<ModelService>> allServices() const;

    // generateAudio{prompt, duration, parameters} -> {audio, sampleRate, duration, metrics}
    TaskHandle generateAudio(const GenerateRequest& request, TaskCallbacks callbacks = {});
    // request.variations clips as one task each, with seeds seed, seed+1, ... (a seed is drawn
    // when the request has none), so every clip can be made again on its own.
    std::vector<TaskHandle> generateAudioBatch(const GenerateRequest& request, TaskCallbacks callbacks = {});
    // analyzeAudio(audio, sampleRate) -> {features, patterns, metrics}. No priority: the router
    // picks one from the expected run time.
    TaskHandle analyzeAudio(AudioBuffer audio, TaskCallbacks callbacks = {},
                            std::optional<TaskPriority> priority = std::nullopt);
    // Analyses an audio file without loading it whole: the service decodes it block by block,
    // so recordings of any length stay in bounded memory. Throws AudioError (naming the file)
    // when its header cannot be read, FieldError("path") when it is longer than the limit.
    // For local callers (the CLI): the path is opened as given, so never pass a remote
    // client's path here (the HTTP API takes uploads through analyzeAudio).
    TaskHandle analyzeFile(const std::string& path, TaskCallbacks callbacks = {},
                           std::optional<TaskPriority> priority = std::nullopt);
    // A variation of a clip (analysed or not), handed to generation through the ServiceBridge.
    TaskHandle generateVariation(const AudioBuffer& clip, const GenerateRequest& request, double strength,
                                 const nlohmann::json& analysis = nlohmann::json::object(), TaskCallbacks callbacks = {});
    // Regenerates only `range` of a clip with the request's prompt (inpainting); the rest of
    // the clip is kept. The request's duration is ignored.
    TaskHandle inpaintClip(const AudioBuffer& clip, const GenerateRequest& request, ClipRange range,
                           TaskCallbacks callbacks = {});
    // Appends request.durationSeconds to a clip, carrying on from its end.
    TaskHandle continueClip(const AudioBuffer& clip, const GenerateRequest& request, TaskCallbacks callbacks = {});
    // Analyses the audio a finished generation task produced (generate -> analyse hand-off).
    TaskHandle analyzeGenerated(TaskId generationTask, TaskCallbacks callbacks = {});

    // Writes a clip to a local file for other tools: trimmed, faded, loudness-normalised, in
    // WAV 16/24/float, FLAC or OGG Vorbis (core/audio/clip_export.h). Runs on the caller's
    // thread (a clip exports in milliseconds) and needs no service; the file appears whole or
    // not at all. Throws AudioError naming the file and the setting. For local callers only
    // (the GUI, the CLI): the path is written as given.
    ExportResult exportClip(const AudioBuffer& clip, const std::string& path, const ExportOptions& options) const;
    // The same export as the bytes of the file, for a remote caller (the HTTP API's
    // GET /v1/tasks/{id}/export): nothing is written here. `name` is the file name the caller
    // will see; its extension must match options.format.
    EncodedExport encodeExport(const AudioBuffer& clip, const std::string& name, const ExportOptions& options) const;

    // Loads or unloads a service on a background thread of the queue's callers' choosing:
    // these block, so UIs call them off their GUI thread (the adapter does).
    void loadService(const std::string& id);
    void unloadService(const std::string& id);

    std::optional<ApiTaskRecord> task(TaskId id) const;
    std::vector<ApiTaskRecord> tasks() const;  // newest first
    bool cancel(TaskId id);

    // {wav2vec2: {...}, audioldm: {...}, memory: {...}, queue: {...}, limits: {...}}
    nlohmann::json getServiceStatus();

    // The memory monitor's ring buffer (oldest first), sampled in the background when
    // AudioApiConfig::sampleMemory is on; the GUI's live graphs read it.
    std::vector<MemorySnapshot> memoryHistory() const { return memory_->history(); }
    MemorySnapshot memorySnapshot() { return memory_->snapshot(); }  // takes a sample now
    void setMemoryThresholds(MemoryThresholds thresholds) { memory_->setThresholds(thresholds); }
    // Called on the sampler's thread whenever the alert level changes.
    void setMemoryAlertCallback(MemoryAlertCallback callback) { memory_->setAlertCallback(std::move(callback)); }
    MemoryMonitor& memoryMonitor() { return *memory_; }
    const ApiLimits& limits() const { return config_.limits; }
    TaskQueue& queue() { return *queue_; }

    // Cancels everything and stops the workers; further calls throw ApiError.
    void shutdown();

private:
    TaskHandle remember(TaskHandle handle, std::string kind, nlohmann::json request);
    TaskHandle submitClipEdit(const AudioBuffer& clip, const GenerateRequest& request, nlohmann::json edit,
                              TaskCallbacks callbacks);
    void validateAudio(const AudioBuffer& audio, const char* field) const;
    std::shared_ptr<ModelService> requireService(TaskType type) const;
    TaskResult runTask(const AudioTask& task, const ProgressCallback& progress, const CancellationToken& cancel);

    AudioApiConfig config_;
    ServiceRegistry registry_;
    std::unique_ptr<MemoryMonitor> memory_;
    std::unique_ptr<TaskRouter> router_;
    std::unique_ptr<ServiceBridge> bridge_;
    TaskRunner routerRunner_;
    std::unique_ptr<TaskQueue> queue_;

    mutable std::mutex tasksMutex_;
    std::map<TaskId, ApiTaskRecord> tasks_;
};

nlohmann::json toJson(const ServiceInfo& info);
nlohmann::json toJson(const TaskStatus& status);
nlohmann::json toJson(const MemorySnapshot& snapshot);

}  // namespace grym
