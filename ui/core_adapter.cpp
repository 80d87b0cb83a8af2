#include "core_adapter.h"

#include "audio/audio_file.h"
#include "common/error.h"

#include <QDirIterator>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QRunnable>

#include <atomic>
#include <chrono>

namespace grym::ui {

namespace {

AudioBuffer loadFromDisk(const std::string& path) { return loadAudioFile(path); }

// 24-bit PCM keeps generated audio's detail in both WAV and FLAC; the extension picks the format.
void saveToDisk(const AudioBuffer& audio, const std::string& path) {
    SaveOptions options;
    options.encoding = SampleEncoding::Pcm24;
    saveAudioFile(path, audio, options);
}

QString readableMessage(const std::exception& e) { return QString::fromStdString(e.what()); }

}  // namespace

CoreAdapter::CoreAdapter(QObject* parent)
    : QObject(parent), loader_(loadFromDisk), saver_(saveToDisk) {
    qRegisterMetaType<grym::ui::TaskProgress>();
    qRegisterMetaType<grym::ui::TaskOutcome>();
    qRegisterMetaType<std::shared_ptr<const grym::AudioBuffer>>();
    qRegisterMetaType<grym::TaskType>();
    servicePool_.setMaxThreadCount(1);
    filePool_.setMaxThreadCount(2);
    TaskQueueConfig config;
    config.workerCount = 2;  // a generation and an analysis may run side by side
    queue_ = std::make_unique<TaskQueue>(config, [this](const AudioTask& task, const ProgressCallback& progress,
                                                         const CancellationToken& cancel) {
        return runOnWorker(task, progress, cancel);
    });
}

CoreAdapter::~CoreAdapter() {
    queue_->shutdown(ShutdownMode::Cancel);
    servicePool_.waitForDone();
    filePool_.waitForDone();
}

void CoreAdapter::addService(std::shared_ptr<ModelService> service) {
    services_.push_back(std::move(service));
    emit serviceChanged(QString::fromStdString(services_.back()->id()));
}

QVector<ServiceInfo> CoreAdapter::serviceInfos() const {
    QVector<ServiceInfo> infos;
    for (const auto& service : services_) infos.push_back(service->info());
    return infos;
}

QStringList CoreAdapter::serviceIds() const {
    QStringList ids;
    for (const auto& service : services_) ids << QString::fromStdString(service->id());
    return ids;
}

void CoreAdapter::setFileIo(FileLoader loader, FileSaver saver) {
    loader_ = loader ? std::move(loader) : FileLoader(loadFromDisk);
    saver_ = saver ? std::move(saver) : FileSaver(saveToDisk);
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
            QMetaObject::invokeMethod(this, [this, file, audio, reason] {
                if (reason.isEmpty()) emit clipLoaded(file, audio);
                else emit fileRefused(file, reason);
            }, Qt::QueuedConnection);
        });
    }
}

void CoreAdapter::saveAudio(std::shared_ptr<const AudioBuffer> audio, const QString& path) {
    const FileSaver saver = saver_;
    filePool_.start([this, saver, audio, path] {
        QString reason;
        try {
            if (!audio || audio->empty()) throw AudioError("there is no audio to save");
            saver(*audio, path.toStdString());
        } catch (const std::exception& e) {
            reason = readableMessage(e);
        }
        QMetaObject::invokeMethod(this, [this, path, reason] {
            if (reason.isEmpty()) emit audioSaved(path);
            else emit audioSaveFailed(path, reason);
        }, Qt::QueuedConnection);
    });
}

std::shared_ptr<ModelService> CoreAdapter::serviceFor(TaskType type) const {
    for (const auto& service : services_)
        if (service->taskType() == type) return service;
    return nullptr;
}

std::shared_ptr<ModelService> CoreAdapter::serviceById(const QString& id) const {
    for (const auto& service : services_)
        if (QString::fromStdString(service->id()) == id) return service;
    return nullptr;
}

quint64 CoreAdapter::generate(const GenerationRequest& request) {
    AudioTask task;
    task.type = TaskType::Generation;
    task.priority = TaskPriority::Normal;
    task.requirements.computeIntensity = ComputeIntensity::Heavy;
    task.label = request.prompt.left(60).toStdString();
    task.input.prompt = request.prompt.toStdString();
    task.input.parameters = {
        {"negative_prompt", request.negativePrompt.toStdString()},
        {"duration", request.durationSeconds},
        {"steps", request.steps},
        {"guidance_scale", request.guidanceScale},
        {"seed", request.seed},
        {"scheduler", request.scheduler.toStdString()},
    };
    if (request.sourceAudio) task.input.audio = *request.sourceAudio;
    TaskOutcome outcome;
    outcome.type = TaskType::Generation;
    outcome.request = request;
    outcome.clipId = request.sourceClipId;
    return submit(std::move(task), std::move(outcome));
}

quint64 CoreAdapter::analyse(quint64 clipId, std::shared_ptr<const AudioBuffer> audio) {
    AudioTask task;
    task.type = TaskType::Analysis;
    task.priority = TaskPriority::High;  // short, and the user is waiting to read it
    task.requirements.computeIntensity = ComputeIntensity::Light;
    task.label = "analysis";
    if (audio) task.input.audio = *audio;
    TaskOutcome outcome;
    outcome.type = TaskType::Analysis;
    outcome.clipId = clipId;
    return submit(std::move(task), std::move(outcome));
}

void CoreAdapter::finishTask(TaskOutcome outcome) {
    tasks_.remove(outcome.taskId);
    emit taskFinished(outcome);
}

quint64 CoreAdapter::submit(AudioTask task, TaskOutcome outcome) {
    std::shared_ptr<ModelService> service = serviceFor(task.type);
    auto refuse = [this, &outcome](QString message) {
        outcome.taskId = nextLocalId_++;
        outcome.state = TaskOutcome::State::Failed;
        outcome.message = std::move(message);
        emit taskQueued(outcome.taskId, outcome.type);
        QMetaObject::invokeMethod(this, [this, outcome] { finishTask(outcome); }, Qt::QueuedConnection);
        return outcome.taskId;
    };
    if (!service) {
        return refuse(task.type == TaskType::Generation
            ? tr("No generation model is available. Open Tools ▸ Model Manager and point it at an AudioLDM model folder.")
            : tr("No analysis model is available. Open Tools ▸ Model Manager and point it at a wav2vec2 model folder."));
    }
    task.serviceId = service->id();
    task.requirements.device = service->info().device;

    // The queue calls back on its worker threads; everything is posted to the GUI thread.
    auto started = std::make_shared<std::atomic<bool>>(false);
    TaskCallbacks callbacks;
    callbacks.onProgress = [this, started](TaskId id, const ProgressUpdate& update) {
        if (!started->exchange(true))
            QMetaObject::invokeMethod(this, [this, id] { emit taskStarted(id); }, Qt::QueuedConnection);
        TaskProgress p;
        p.fraction = update.fraction;
        p.step = update.step;
        p.totalSteps = update.totalSteps;
        p.stage = QString::fromStdString(update.stage);
        p.secondsRemaining = update.secondsRemaining;
        QMetaObject::invokeMethod(this, [this, id, p] { emit taskProgressed(id, p); }, Qt::QueuedConnection);
    };
    callbacks.onComplete = [this, outcome, serviceId = QString::fromStdString(service->id())](
                               TaskId id, TaskState state, const std::string& error) mutable {
        outcome.taskId = id;
        QMetaObject::invokeMethod(this, [this, outcome, state, error, serviceId]() mutable {
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
        }, Qt::QueuedConnection);
    };
    try {
        TaskHandle handle = queue_->submit(std::move(task), std::move(callbacks));
        tasks_.insert(handle.id(), handle);
        emit taskQueued(handle.id(), outcome.type);
        return handle.id();
    } catch (const std::exception& e) {
        return refuse(readableMessage(e));
    }
}

TaskResult CoreAdapter::runOnWorker(const AudioTask& task, const ProgressCallback& progress, const CancellationToken& cancel) {
    std::shared_ptr<ModelService> service;
    for (const auto& candidate : services_)  // services_ only changes before tasks are submitted
        if (candidate->id() == task.serviceId) service = candidate;
    if (!service) throw TaskError("the model service '" + task.serviceId + "' is gone");
    if (cancel.cancelled()) throw TaskCancelled{};
    double loadSeconds = 0.0;
    if (!service->isReady()) {
        ProgressUpdate loading;
        loading.stage = "loading model";
        progress(loading);
        QElapsedTimer timer;
        timer.start();
        service->load();
        loadSeconds = timer.nsecsElapsed() / 1e9;
        QMetaObject::invokeMethod(this, [this, id = QString::fromStdString(service->id())] { emit serviceChanged(id); },
                                  Qt::QueuedConnection);
    }
    TaskResult result = service->run(task.input, progress, cancel);
    if (!result.metrics.is_object()) result.metrics = nlohmann::json::object();
    result.metrics["model_load_seconds"] = loadSeconds;
    return result;
}

void CoreAdapter::cancel(quint64 taskId) {
    if (auto it = tasks_.find(taskId); it != tasks_.end()) it->cancel();
}

void CoreAdapter::cancelAll() {
    for (TaskHandle& handle : tasks_) handle.cancel();
}

void CoreAdapter::runServiceCall(const QString& serviceId, std::function<void(ModelService&)> call) {
    std::shared_ptr<ModelService> service = serviceById(serviceId);
    if (!service) {
        emit serviceFailed(serviceId, tr("There is no model service called '%1'.").arg(serviceId));
        return;
    }
    servicePool_.start([this, service, serviceId, call = std::move(call)] {
        QString reason;
        try {
            call(*service);
        } catch (const std::exception& e) {
            reason = readableMessage(e);
        }
        QMetaObject::invokeMethod(this, [this, serviceId, reason] {
            emit serviceChanged(serviceId);
            if (!reason.isEmpty()) emit serviceFailed(serviceId, reason);
        }, Qt::QueuedConnection);
    });
    emit serviceChanged(serviceId);
}

void CoreAdapter::loadModel(const QString& serviceId) {
    runServiceCall(serviceId, [](ModelService& service) { service.load(); });
}

void CoreAdapter::unloadModel(const QString& serviceId) {
    runServiceCall(serviceId, [](ModelService& service) { service.unload(); });
}

}  // namespace grym::ui
