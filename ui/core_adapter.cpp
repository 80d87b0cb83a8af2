#include "core_adapter.h"

#include "common/error.h"

#include <QDirIterator>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QRunnable>

#include <chrono>

namespace grym::ui {

namespace {

double monotonicSeconds() {
    using clock = std::chrono::steady_clock;
    return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

CoreAdapter::FileLoader unavailableLoader() {
    return [](const std::string& path) -> AudioBuffer {
        throw AudioError("cannot read '" + path + "': this build has no audio file support");
    };
}

CoreAdapter::FileSaver unavailableSaver() {
    return [](const AudioBuffer&, const std::string& path) {
        throw AudioError("cannot write '" + path + "': this build has no audio file support");
    };
}

QString readableMessage(const std::exception& e) { return QString::fromStdString(e.what()); }

}  // namespace

struct CoreAdapter::RunningTask {
    quint64 id = 0;
    CancellationToken cancel;
    double submittedAt = 0.0;
};

CoreAdapter::CoreAdapter(QObject* parent)
    : QObject(parent), loader_(unavailableLoader()), saver_(unavailableSaver()) {
    qRegisterMetaType<grym::ui::TaskProgress>();
    qRegisterMetaType<grym::ui::TaskOutcome>();
    qRegisterMetaType<std::shared_ptr<const grym::AudioBuffer>>();
    qRegisterMetaType<grym::TaskType>();
    modelPool_.setMaxThreadCount(1);
    modelPool_.setExpiryTimeout(-1);
    filePool_.setMaxThreadCount(2);
}

CoreAdapter::~CoreAdapter() {
    cancelAll();
    modelPool_.clear();  // drop queued work that never started
    modelPool_.waitForDone();
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
    loader_ = loader ? std::move(loader) : unavailableLoader();
    saver_ = saver ? std::move(saver) : unavailableSaver();
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
    TaskInput input;
    input.prompt = request.prompt.toStdString();
    input.parameters = {
        {"negative_prompt", request.negativePrompt.toStdString()},
        {"duration", request.durationSeconds},
        {"steps", request.steps},
        {"guidance_scale", request.guidanceScale},
        {"seed", request.seed},
        {"scheduler", request.scheduler.toStdString()},
    };
    if (request.sourceAudio) input.audio = *request.sourceAudio;
    TaskOutcome outcome;
    outcome.type = TaskType::Generation;
    outcome.request = request;
    outcome.clipId = request.sourceClipId;
    return submit(TaskType::Generation, std::move(input), std::move(outcome));
}

quint64 CoreAdapter::analyse(quint64 clipId, std::shared_ptr<const AudioBuffer> audio) {
    TaskInput input;
    if (audio) input.audio = *audio;
    TaskOutcome outcome;
    outcome.type = TaskType::Analysis;
    outcome.clipId = clipId;
    return submit(TaskType::Analysis, std::move(input), std::move(outcome));
}

quint64 CoreAdapter::submit(TaskType type, TaskInput input, TaskOutcome outcome) {
    auto task = std::make_shared<RunningTask>();
    task->id = nextTaskId_++;
    task->submittedAt = monotonicSeconds();
    outcome.taskId = task->id;
    tasks_.insert(task->id, task);
    emit taskQueued(task->id, type);

    std::shared_ptr<ModelService> service = serviceFor(type);
    if (!service) {
        outcome.state = TaskOutcome::State::Failed;
        outcome.message = type == TaskType::Generation
            ? tr("No generation model is available. Open Tools ▸ Model Manager and point it at an AudioLDM model folder.")
            : tr("No analysis model is available. Open Tools ▸ Model Manager and point it at a wav2vec2 model folder.");
        QMetaObject::invokeMethod(this, [this, outcome] {
            tasks_.remove(outcome.taskId);
            emit taskFinished(outcome);
        }, Qt::QueuedConnection);
        return task->id;
    }

    modelPool_.start([this, task, service, input = std::move(input), outcome]() mutable {
        const double startedAt = monotonicSeconds();
        QMetaObject::invokeMethod(this, [this, id = task->id] { emit taskStarted(id); }, Qt::QueuedConnection);
        const QString serviceId = QString::fromStdString(service->id());
        try {
            if (task->cancel.cancelled()) throw TaskCancelled{};
            double loadSeconds = 0.0;
            if (!service->isReady()) {
                QMetaObject::invokeMethod(this, [this, id = task->id] {
                    TaskProgress p;
                    p.stage = tr("loading model");
                    emit taskProgressed(id, p);
                }, Qt::QueuedConnection);
                const double loadStart = monotonicSeconds();
                service->load();
                loadSeconds = monotonicSeconds() - loadStart;
                QMetaObject::invokeMethod(this, [this, serviceId] { emit serviceChanged(serviceId); }, Qt::QueuedConnection);
            }
            const ProgressCallback onProgress = [this, id = task->id](const ProgressUpdate& update) {
                TaskProgress p;
                p.fraction = update.fraction;
                p.step = update.step;
                p.totalSteps = update.totalSteps;
                p.stage = QString::fromStdString(update.stage);
                p.secondsRemaining = update.secondsRemaining;
                QMetaObject::invokeMethod(this, [this, id, p] { emit taskProgressed(id, p); }, Qt::QueuedConnection);
            };
            const double runStart = monotonicSeconds();
            TaskResult result = service->run(input, onProgress, task->cancel);
            outcome.metrics = result.metrics.is_object() ? result.metrics : nlohmann::json::object();
            outcome.metrics["queue_wait_seconds"] = startedAt - task->submittedAt;
            outcome.metrics["model_load_seconds"] = loadSeconds;
            outcome.metrics["run_seconds"] = monotonicSeconds() - runStart;
            outcome.data = std::move(result.data);
            if (result.audio) outcome.audio = std::make_shared<const AudioBuffer>(std::move(*result.audio));
            if (outcome.type == TaskType::Generation && !outcome.audio) {
                outcome.state = TaskOutcome::State::Failed;
                outcome.message = tr("The generation model returned no audio.");
            }
        } catch (const TaskCancelled&) {
            outcome.state = TaskOutcome::State::Cancelled;
            outcome.message = tr("Cancelled.");
        } catch (const std::exception& e) {
            outcome.state = TaskOutcome::State::Failed;
            outcome.message = readableMessage(e);
        }
        QMetaObject::invokeMethod(this, [this, outcome, serviceId] {
            tasks_.remove(outcome.taskId);
            emit serviceChanged(serviceId);
            emit taskFinished(outcome);
        }, Qt::QueuedConnection);
    });
    return task->id;
}

void CoreAdapter::cancel(quint64 taskId) {
    if (auto it = tasks_.find(taskId); it != tasks_.end()) (*it)->cancel.cancel();
}

void CoreAdapter::cancelAll() {
    for (const auto& task : std::as_const(tasks_)) task->cancel.cancel();
}

void CoreAdapter::runServiceCall(const QString& serviceId, std::function<void(ModelService&)> call) {
    std::shared_ptr<ModelService> service = serviceById(serviceId);
    if (!service) {
        emit serviceFailed(serviceId, tr("There is no model service called '%1'.").arg(serviceId));
        return;
    }
    modelPool_.start([this, service, serviceId, call = std::move(call)] {
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
