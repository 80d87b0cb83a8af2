#include "core_adapter.h"

#include "api/clip_provenance.h"
#include "audio/audio_file.h"
#include "common/error.h"
#include "models_folder.h"

#include <QDir>
#include <QDirIterator>
#include <QFileInfo>

#include <atomic>
#include <mutex>

namespace grym::ui {

namespace {

AudioBuffer loadFromDisk(const std::string& path) { return loadAudioFile(path); }

// 24-bit PCM keeps generated audio's detail in both WAV and FLAC; the extension picks the format.
void saveToDisk(const AudioBuffer& audio, const std::string& path, const nlohmann::json& settings) {
    SaveOptions options;
    options.encoding = SampleEncoding::Pcm24;
    options.metadata = audioMetadataFromSettings(settings, "the clip's settings");
    saveAudioFile(path, audio, options);
}

QString readableMessage(const std::exception& e) { return QString::fromStdString(e.what()); }

ResourceSample toResourceSample(const MemorySnapshot& s) {
    ResourceSample r;
    r.timeSeconds = s.monitorSeconds;
    r.ramUsed = s.systemUsedBytes;
    r.ramTotal = s.systemTotalBytes;
    r.processRss = s.processRssBytes;
    if (s.gpu.available) {
        r.vramUsed = s.gpu.usedBytes;
        r.vramTotal = s.gpu.totalBytes;
    } else if (s.torchCuda.available) {
        r.vramUsed = s.torchCuda.reservedBytes;
    }
    return r;
}

}  // namespace

class CoreAdapter::Mailbox {
public:
    explicit Mailbox(CoreAdapter* owner) : owner_(owner) {}
    // Queues `call` on the adapter's thread; dropped once the adapter is going away. Calls
    // queued before that are discarded by Qt with the adapter's other posted events.
    void post(std::function<void()> call) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (owner_) QMetaObject::invokeMethod(owner_, std::move(call), Qt::QueuedConnection);
    }
    void close() {
        std::lock_guard<std::mutex> lock(mutex_);
        owner_ = nullptr;
    }

private:
    std::mutex mutex_;
    CoreAdapter* owner_;
};

namespace {

AudioApiConfig adapterApiConfig(quint64 memoryLimitBytes) {
    AudioApiConfig config;
    config.router.memoryLimitBytes = memoryLimitBytes;
    config.queue.workerCount = 2;  // a generation and an analysis may run side by side
    return config;
}

}  // namespace

CoreAdapter::CoreAdapter(std::shared_ptr<AudioApi> api, QObject* parent)
    : QObject(parent), api_(std::move(api)), mailbox_(std::make_shared<Mailbox>(this)), loader_(loadFromDisk),
      saver_(saveToDisk) {
    if (!api_) throw ApiError("CoreAdapter needs an AudioApi");
    qRegisterMetaType<grym::ui::TaskProgress>();
    qRegisterMetaType<grym::ui::TaskOutcome>();
    qRegisterMetaType<std::shared_ptr<const grym::AudioBuffer>>();
    qRegisterMetaType<grym::TaskType>();
    servicePool_.setMaxThreadCount(1);
    filePool_.setMaxThreadCount(2);
}

CoreAdapter::CoreAdapter(QObject* parent, quint64 memoryLimitBytes)
    : CoreAdapter(std::make_shared<AudioApi>(adapterApiConfig(memoryLimitBytes)), parent) {}

CoreAdapter::~CoreAdapter() {
    mailbox_->close();
    for (TaskHandle& handle : tasks_) handle.cancel();
    servicePool_.waitForDone();
    filePool_.waitForDone();
}

void CoreAdapter::post(std::function<void()> call) const { mailbox_->post(std::move(call)); }

void CoreAdapter::notifyServicesChanged() {
    for (const QString& id : serviceIds()) emit serviceChanged(id);
}

QVector<ServiceInfo> CoreAdapter::serviceInfos() const {
    QVector<ServiceInfo> infos;
    for (const auto& service : api_->allServices()) infos.push_back(service->info());
    return infos;
}

QStringList CoreAdapter::serviceIds() const {
    QStringList ids;
    for (const auto& service : api_->allServices()) ids << QString::fromStdString(service->id());
    return ids;
}

void CoreAdapter::setFileIo(FileLoader loader, FileSaver saver) {
    loader_ = loader ? std::move(loader) : FileLoader(loadFromDisk);
    saver_ = saver ? std::move(saver) : FileSaver(saveToDisk);
}

void CoreAdapter::startMemoryMonitor(double warningFraction, double errorFraction) {
    const uint64_t total = api_->memorySnapshot().systemTotalBytes;
    MemoryThresholds thresholds;
    thresholds.metric = MemoryMetric::SystemUsed;
    thresholds.warningBytes = static_cast<uint64_t>(total * warningFraction);
    thresholds.errorBytes = static_cast<uint64_t>(total * errorFraction);
    thresholds_ = {thresholds.warningBytes, thresholds.errorBytes};
    api_->setMemoryThresholds(thresholds);
    api_->setMemoryAlertCallback([mailbox = mailbox_, this](MemoryAlertLevel level, const MemorySnapshot&, const std::string& message) {
        mailbox->post([this, level, text = QString::fromStdString(message)] { emit memoryAlert(static_cast<int>(level), text); });
    });
    std::shared_ptr<AudioApi> api = api_;
    resourceSource_ = [api] {
        QVector<ResourceSample> samples;
        for (const MemorySnapshot& s : api->memoryHistory()) samples << toResourceSample(s);
        return samples;
    };
}

void CoreAdapter::setResourceSource(ResourceSource source, ResourceThresholds thresholds) {
    resourceSource_ = std::move(source);
    thresholds_ = thresholds;
}

QVector<ResourceSample> CoreAdapter::resourceHistory() const {
    return resourceSource_ ? resourceSource_() : QVector<ResourceSample>{};
}

QStringList CoreAdapter::audioFileSuffixes() {
    return {QStringLiteral("wav"), QStringLiteral("flac"), QStringLiteral("ogg"), QStringLiteral("oga"),
            QStringLiteral("mp3"), QStringLiteral("aif"), QStringLiteral("aiff")};
}

void CoreAdapter::loadPaths(const QStringList& paths) {
    QStringList files;
    for (const QString& path : paths) {
        const QFileInfo info(path);
        if (!info.isDir()) {
            files << path;
            continue;
        }
        QStringList filters;
        for (const QString& suffix : audioFileSuffixes()) filters << QStringLiteral("*.") + suffix;
        QDirIterator it(path, filters, QDir::Files | QDir::Readable, QDirIterator::Subdirectories);
        QStringList inFolder;
        while (it.hasNext()) inFolder << it.next();
        inFolder.sort();
        if (inFolder.isEmpty())
            emit fileRefused(path, tr("the folder holds no audio files (%1)").arg(audioFileSuffixes().join(QStringLiteral(", "))));
        files << inFolder;
    }
    const FileLoader loader = loader_;
    for (const QString& file : files) {
        filePool_.start([this, loader, file] {
            std::shared_ptr<const AudioBuffer> audio;
            QString reason;
            try {
                audio = std::make_shared<const AudioBuffer>(loader(file.toStdString()));
                if (audio->empty()) reason = tr("the file holds no audio samples");
            } catch (const std::exception& e) {
                reason = readableMessage(e);
            }
            post([this, file, audio, reason] {
                if (reason.isEmpty()) emit clipLoaded(file, audio);
                else emit fileRefused(file, reason);
            });
        });
    }
}

nlohmann::json CoreAdapter::readClipSettings(const QString& path) {
    try {
        if (const auto settings = readProvenance(path.toStdString())) return toJson(*settings);
    } catch (const Error&) {
        // Settings that cannot be read do not stop the clip from loading; it is just a clip.
    }
    return nullptr;
}

GenerateRequest CoreAdapter::requestFromSettings(const nlohmann::json& settings) {
    return toGenerateRequest(provenanceFromJson(settings, "the clip's settings"));
}

void CoreAdapter::saveAudio(std::shared_ptr<const AudioBuffer> audio, const QString& path, nlohmann::json settings) {
    const FileSaver saver = saver_;
    filePool_.start([this, saver, audio, path, settings = std::move(settings)] {
        QString reason;
        try {
            if (!audio || audio->empty()) throw AudioError("there is no audio to save");
            saver(*audio, path.toStdString(), settings);
        } catch (const std::exception& e) {
            reason = readableMessage(e);
        }
        post([this, path, reason] {
            if (reason.isEmpty()) emit audioSaved(path);
            else emit audioSaveFailed(path, reason);
        });
    });
}

void CoreAdapter::exportClip(std::shared_ptr<const AudioBuffer> audio, const QString& path, const ExportOptions& options,
                             const nlohmann::json& settings) {
    std::shared_ptr<AudioApi> api = api_;
    filePool_.start([this, api, audio, path, options, settings] {
        QString reason, summary;
        try {
            if (!audio || audio->empty()) throw AudioError(path.toStdString() + ": cannot export: there is no audio");
            ExportOptions withSettings = options;
            withSettings.metadata = audioMetadataFromSettings(settings, "the clip's settings");
            const ExportResult result = api->exportClip(*audio, path.toStdString(), withSettings);
            summary = tr("%1 s, %2").arg(result.duration(), 0, 'f', 3).arg(QString::fromLatin1(displayName(result.format)));
            if (options.normaliseLufs) summary += tr(", %1 LUFS").arg(*options.normaliseLufs, 0, 'f', 1);
            if (result.clipped()) summary += tr(" (peaks clipped: choose WAV float or a lower target)");
        } catch (const std::exception& e) {
            reason = readableMessage(e);
        }
        post([this, path, reason, summary] {
            if (reason.isEmpty()) emit clipExported(path, summary);
            else emit exportFailed(path, reason);
        });
    });
}

namespace {

// Where the Model Manager looks for a model, so the message can say where to put it.
QString missingServiceMessage(TaskType type) {
    const QString folder = QDir::toNativeSeparators(QDir(modelsFolder()).filePath(
        type == TaskType::Generation ? QStringLiteral("audioldm") : QStringLiteral("wav2vec2")));
    return type == TaskType::Generation
        ? QObject::tr("No generation model is installed. Put an AudioLDM model folder (diffusers layout) at %1, "
                      "or choose another models folder in Tools ▸ Model Manager.").arg(folder)
        : QObject::tr("No analysis service is available. Put a wav2vec2 model folder at %1, "
                      "or choose another models folder in Tools ▸ Model Manager.").arg(folder);
}

}  // namespace

quint64 CoreAdapter::generate(const GenerationRequest& request) {
    TaskOutcome outcome;
    outcome.type = TaskType::Generation;
    outcome.request = request;
    outcome.clipId = request.sourceClipId;
    const std::shared_ptr<ModelService> generator = api_->serviceFor(TaskType::Generation);
    if (!generator) return refuse(std::move(outcome), missingServiceMessage(TaskType::Generation));
    const TaskCallbacks callbacks = callbacksFor(outcome, QString::fromStdString(generator->id()));
    try {
        // A variation starts from a clip: the API's ServiceBridge carries its audio (resampled to
        // what the generator expects) and its analysis, if any, into the generation task.
        TaskHandle handle =
            !request.sourceAudio    ? api_->generateAudio(request.settings, callbacks)
            : request.inpaintRange  ? api_->inpaintClip(*request.sourceAudio, request.settings, *request.inpaintRange, callbacks)
            : request.continueSource ? api_->continueClip(*request.sourceAudio, request.settings, callbacks)
                                     : api_->generateVariation(*request.sourceAudio, request.settings,
                                                               request.variationStrength, request.sourceAnalysis, callbacks);
        return track(std::move(handle), outcome.type);
    } catch (const std::exception& e) {
        return refuse(std::move(outcome), readableMessage(e));
    }
}

quint64 CoreAdapter::analyse(quint64 clipId, std::shared_ptr<const AudioBuffer> audio) {
    TaskOutcome outcome;
    outcome.type = TaskType::Analysis;
    outcome.clipId = clipId;
    const std::shared_ptr<ModelService> analyser = api_->serviceFor(TaskType::Analysis);
    if (!analyser) return refuse(std::move(outcome), missingServiceMessage(TaskType::Analysis));
    if (!audio) return refuse(std::move(outcome), tr("There is no audio to analyse."));
    try {
        // High priority: analysis is short and the user is waiting to read it.
        return track(api_->analyzeAudio(*audio, callbacksFor(outcome, QString::fromStdString(analyser->id())),
                                        TaskPriority::High),
                     outcome.type);
    } catch (const std::exception& e) {
        return refuse(std::move(outcome), readableMessage(e));
    }
}

quint64 CoreAdapter::track(TaskHandle handle, TaskType type) {
    const quint64 id = handle.id();
    tasks_.insert(id, std::move(handle));
    emit taskQueued(id, type);
    return id;
}

quint64 CoreAdapter::refuse(TaskOutcome outcome, QString message) {
    outcome.taskId = nextLocalId_++;
    outcome.state = TaskOutcome::State::Failed;
    outcome.message = std::move(message);
    emit taskQueued(outcome.taskId, outcome.type);
    QMetaObject::invokeMethod(this, [this, outcome] { finishTask(outcome); }, Qt::QueuedConnection);
    return outcome.taskId;
}

void CoreAdapter::finishTask(TaskOutcome outcome) {
    tasks_.remove(outcome.taskId);
    emit taskFinished(outcome);
}

TaskCallbacks CoreAdapter::callbacksFor(TaskOutcome outcome, QString serviceId) {
    // The queue calls back on its worker threads; everything is posted to the GUI thread.
    auto started = std::make_shared<std::atomic<bool>>(false);
    std::shared_ptr<Mailbox> mailbox = mailbox_;
    TaskCallbacks callbacks;
    callbacks.onProgress = [this, mailbox, started, serviceId](TaskId id, const ProgressUpdate& update) {
        if (!started->exchange(true)) mailbox->post([this, id] { emit taskStarted(id); });
        TaskProgress p;
        p.fraction = update.fraction;
        p.step = update.step;
        p.totalSteps = update.totalSteps;
        p.stage = QString::fromStdString(update.stage);
        p.secondsRemaining = update.secondsRemaining;
        mailbox->post([this, id, p, serviceId] {
            if (p.stage == QLatin1String("loading model")) emit serviceChanged(serviceId);
            emit taskProgressed(id, p);
        });
    };
    callbacks.onComplete = [this, mailbox, outcome, serviceId](TaskId id, TaskState state, const std::string& error) mutable {
        outcome.taskId = id;
        mailbox->post([this, outcome, state, error, serviceId]() mutable {
            const TaskHandle handle = tasks_.value(outcome.taskId);
            if (state == TaskState::Succeeded && handle.valid()) {
                TaskResult result = handle.result().get();
                outcome.metrics = result.metrics.is_object() ? result.metrics : nlohmann::json::object();
                const TaskStatus status = handle.status();
                outcome.metrics["queue_wait_seconds"] = status.queuedSeconds;
                outcome.metrics["run_seconds"] = status.runSeconds;
                outcome.data = std::move(result.data);
                if (result.audio) outcome.audio = std::make_shared<const AudioBuffer>(std::move(*result.audio));
                if (outcome.type == TaskType::Generation && !outcome.audio) {
                    outcome.state = TaskOutcome::State::Failed;
                    outcome.message = tr("The generation model returned no audio.");
                }
            } else if (state == TaskState::Cancelled) {
                outcome.state = TaskOutcome::State::Cancelled;
                outcome.message = tr("Cancelled.");
            } else {
                outcome.state = TaskOutcome::State::Failed;
                outcome.message = QString::fromStdString(error);
            }
            emit serviceChanged(serviceId);
            finishTask(std::move(outcome));
        });
    };
    return callbacks;
}

void CoreAdapter::cancel(quint64 taskId) {
    if (auto it = tasks_.find(taskId); it != tasks_.end()) it->cancel();
}

void CoreAdapter::cancelAll() {
    for (TaskHandle& handle : tasks_) handle.cancel();
}

void CoreAdapter::runServiceCall(const QString& serviceId, std::function<void(AudioApi&, const std::string&)> call) {
    if (!api_->service(serviceId.toStdString())) {
        emit serviceFailed(serviceId, tr("There is no model service called '%1'.").arg(serviceId));
        return;
    }
    servicePool_.start([this, api = api_, serviceId, call = std::move(call)] {
        QString reason;
        try {
            call(*api, serviceId.toStdString());
        } catch (const std::exception& e) {
            reason = readableMessage(e);
        }
        post([this, serviceId, reason] {
            emit serviceChanged(serviceId);
            if (!reason.isEmpty()) emit serviceFailed(serviceId, reason);
        });
    });
    emit serviceChanged(serviceId);
}

void CoreAdapter::loadModel(const QString& serviceId) {
    runServiceCall(serviceId, [](AudioApi& api, const std::string& id) { api.loadService(id); });
}

void CoreAdapter::unloadModel(const QString& serviceId) {
    runServiceCall(serviceId, [](AudioApi& api, const std::string& id) { api.unloadService(id); });
}

}  // namespace grym::ui
