#pragma once
// The one place where the UI talks to core, and it talks only to grym::AudioApi (the same API
// the CLI and the local HTTP API use): generation, analysis, variations, model load/unload,
// service status and the memory monitor's samples. Every call returns at once; the work (file
// decoding, model loading, generation, analysis) runs on worker threads and its results come
// back as signals emitted on the GUI thread (queued across threads). Nothing here ever blocks
// the event loop on model work.
#include "api/audio_api.h"
#include "audio/clip_export.h"
#include "audio/audio_buffer.h"

#include <QHash>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QThreadPool>
#include <QVector>

#include <functional>
#include <memory>

namespace grym::ui {

// A generation as the app asks for it: the API's own request, plus the clip a variation starts from.
struct GenerationRequest {
    GenerateRequest settings;                        // prompt, steps, seed, ... as AudioApi takes them
    std::shared_ptr<const AudioBuffer> sourceAudio;  // set for a variation of an existing clip
    nlohmann::json sourceAnalysis;                   // that clip's analysis, when it has one
    quint64 sourceClipId = 0;
    double variationStrength = 0.6;                  // how far a variation may move from its clip (0..1]
    // Instead of a variation of sourceAudio: regenerate only this range of it (inpainting)...
    std::optional<ClipRange> inpaintRange;
    // ...or append settings.durationSeconds that carry on from its end.
    bool continueSource = false;
};

struct TaskProgress {
    double fraction = 0.0;
    int step = 0;
    int totalSteps = 0;
    QString stage;
    double secondsRemaining = -1.0;
};

struct TaskOutcome {
    enum class State { Succeeded, Failed, Cancelled };
    quint64 taskId = 0;
    TaskType type = TaskType::Generation;
    State state = State::Succeeded;
    QString message;                      // what went wrong and what to do, when Failed
    std::shared_ptr<const AudioBuffer> audio;  // generated audio
    nlohmann::json data;                  // analysis features/patterns
    nlohmann::json metrics;               // service metrics plus queue wait and run time
    quint64 clipId = 0;                   // the clip analysed, or the variation's source
    GenerationRequest request;            // for generations
};

// One sample of machine memory for the live graphs (bytes; 0 total = not available).
struct ResourceSample {
    double timeSeconds = 0.0;  // monotonic, seconds
    quint64 ramUsed = 0, ramTotal = 0;
    quint64 processRss = 0;
    quint64 vramUsed = 0, vramTotal = 0;
};

// The memory monitor's alert thresholds, in bytes of system RAM used (0: off).
struct ResourceThresholds {
    quint64 warningBytes = 0;
    quint64 errorBytes = 0;
};

class CoreAdapter : public QObject {
    Q_OBJECT
public:
    using FileLoader = std::function<AudioBuffer(const std::string& path)>;
    // `settings`: a generated clip's recorded settings (core's ClipProvenance JSON), embedded in
    // the file; null for other clips.
    using FileSaver = std::function<void(const AudioBuffer& audio, const std::string& path, const nlohmann::json& settings)>;
    using ResourceSource = std::function<QVector<ResourceSample>()>;

    // Drives `api`, which the app shares with its local HTTP server; services are registered
    // on the api (AudioApi::addService, addInstalledServices), then announced with
    // notifyServicesChanged().
    explicit CoreAdapter(std::shared_ptr<AudioApi> api, QObject* parent = nullptr);
    // Creates its own AudioApi: the router loads services on first use, unloading idle ones to
    // keep loaded models under `memoryLimitBytes` (0 = no limit).
    explicit CoreAdapter(QObject* parent = nullptr, quint64 memoryLimitBytes = 0);
    ~CoreAdapter() override;  // cancels this adapter's tasks; no signal comes after it

    AudioApi& api() { return *api_; }
    std::shared_ptr<AudioApi> sharedApi() const { return api_; }
    // Emits serviceChanged for every service (after services were added or replaced on the api).
    void notifyServicesChanged();
    QVector<ServiceInfo> serviceInfos() const;
    QStringList serviceIds() const;
    // Defaults to core/audio's libsndfile loader and saver; null restores the default.
    void setFileIo(FileLoader loader, FileSaver saver);
    // Uses the AudioApi's memory monitor as the graphs' source, with warning/error thresholds at
    // these fractions of the machine's RAM.
    void startMemoryMonitor(double warningFraction = 0.85, double errorFraction = 0.95);
    // Replaces the monitor as the graphs' source (tests).
    void setResourceSource(ResourceSource source, ResourceThresholds thresholds = {});

    // Loads files and every audio file inside folders (one level of recursion is not enough for
    // sample packs: folders are walked fully). Emits clipLoaded or fileRefused per file.
    void loadPaths(const QStringList& paths);
    static QStringList audioFileSuffixes();
    void saveAudio(std::shared_ptr<const AudioBuffer> audio, const QString& path,
                   nlohmann::json settings = nullptr);
    // The generation settings embedded in an audio file grym-synth wrote (reads the header
    // only); null when it has none or they cannot be read.
    static nlohmann::json readClipSettings(const QString& path);
    // The recorded settings as the request that makes the clip again.
    static GenerateRequest requestFromSettings(const nlohmann::json& settings);
    // Exports (trim, fades, loudness) on the file pool through AudioApi::exportClip; emits
    // clipExported or exportFailed.
    // The clip's settings (provenance JSON, or null) go into the file as a save's do.
    void exportClip(std::shared_ptr<const AudioBuffer> audio, const QString& path, const ExportOptions& options,
                    const nlohmann::json& settings = nullptr);

    quint64 generate(const GenerationRequest& request);
    quint64 analyse(quint64 clipId, std::shared_ptr<const AudioBuffer> audio);
    void cancel(quint64 taskId);
    void cancelAll();
    int activeTaskCount() const { return tasks_.size(); }

    void loadModel(const QString& serviceId);
    void unloadModel(const QString& serviceId);

    QVector<ResourceSample> resourceHistory() const;
    ResourceThresholds resourceThresholds() const { return thresholds_; }

signals:
    void clipLoaded(const QString& path, std::shared_ptr<const grym::AudioBuffer> audio);
    void fileRefused(const QString& path, const QString& reason);
    void audioSaved(const QString& path);
    void audioSaveFailed(const QString& path, const QString& reason);
    // `summary`: "2.500 s, FLAC 24-bit, -14.0 LUFS" for the status bar.
    void clipExported(const QString& path, const QString& summary);
    void exportFailed(const QString& path, const QString& reason);
    void taskQueued(quint64 taskId, grym::TaskType type);
    void taskStarted(quint64 taskId);
    void taskProgressed(quint64 taskId, const grym::ui::TaskProgress& progress);
    void taskFinished(const grym::ui::TaskOutcome& outcome);
    void serviceChanged(const QString& serviceId);
    void serviceFailed(const QString& serviceId, const QString& message);
    // The memory monitor crossed a threshold (level: 0 normal, 1 warning, 2 error).
    void memoryAlert(int level, const QString& message);

private:
    // Lets core's threads post to the GUI thread only while the adapter is alive.
    class Mailbox;
    void post(std::function<void()> call) const;
    quint64 track(TaskHandle handle, TaskType type);
    quint64 refuse(TaskOutcome outcome, QString message);
    TaskCallbacks callbacksFor(TaskOutcome outcome, QString serviceId);
    void finishTask(TaskOutcome outcome);
    void runServiceCall(const QString& serviceId, std::function<void(AudioApi&, const std::string&)> call);

    std::shared_ptr<AudioApi> api_;
    std::shared_ptr<Mailbox> mailbox_;
    QHash<quint64, TaskHandle> tasks_;     // submitted and not yet reported finished
    quint64 nextLocalId_ = 1ull << 62;     // ids for tasks refused before reaching the queue
    FileLoader loader_;
    FileSaver saver_;
    ResourceSource resourceSource_;
    ResourceThresholds thresholds_;
    QThreadPool servicePool_;  // model load / unload requests, one at a time
    QThreadPool filePool_;     // decoding and encoding files beside model work
};

}  // namespace grym::ui

Q_DECLARE_METATYPE(grym::ui::TaskProgress)
Q_DECLARE_METATYPE(grym::ui::TaskOutcome)
