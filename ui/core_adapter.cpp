#include "core_adapter.h"

#include "audio/audio_file.h"
#include "audio/resampler.h"
#include "common/error.h"

#include <QDirIterator>
#include <QElapsedTimer>
#include <QFileInfo>

#include <atomic>

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

CoreAdapter::CoreAdapter(QObject* parent, quint64 memoryLimitBytes)
    : QObject(parent),
      router_(registry_, TaskRouterConfig{memoryLimitBytes}),
      bridge_(router_, [](const AudioBuffer& audio, int rate) { return resample(audio, rate); }),
      loader_(loadFromDisk),
      saver_(saveToDisk) {
    qRegisterMetaType<grym::ui::TaskProgress>();
    qRegisterMetaType<grym::ui::TaskOutcome>();
    qRegisterMetaType<std::shared_ptr<const grym::AudioBuffer>>();
    qRegisterMetaType<grym::TaskType>();
    servicePool_.setMaxThreadCount(1);
    filePool_.setMaxThreadCount(2);
    routerRunner_ = router_.runner();
    TaskQueueConfig config;
    config.workerCount = 2;  // a generation and an analysis may run side by side
    queue_ = std::make_unique<TaskQueue>(config, [this](const AudioTask& task, const ProgressCallback& progress,
                                                         const CancellationToken& cancel) {
        return runOnWorker(task, progress, cancel);
    });
}

CoreAdapter::~CoreAdapter() {
    queue_->shutdown(ShutdownMode::Cancel);
    if (monitor_) monitor_->stopSampling();
    servicePool_.waitForDone();
    filePool_.waitForDone();
}

void CoreAdapter::addService(std::shared_ptr<ModelService> service) {
    const QString id = QString::fromStdString(service->id());
    try {
        registry_.add(std::move(service));
    } catch (const std::exception& e) {
        emit serviceFailed(id, readableMessage(e));
        return;
    }
    emit serviceChanged(id);
}

QVector<ServiceInfo> CoreAdapter::serviceInfos() const {
    QVector<ServiceInfo> infos;
    for (const auto& service : registry_.all()) infos.push_back(service->info());
    return infos;
}

QStringList CoreAdapter::serviceIds() const {
    QStringList ids;
    for (const auto& service : registry_.all()) ids << QString::fromStdString(service->id());
    return ids;
}

void CoreAdapter::setFileIo(FileLoader loader, FileSaver saver) {
    loader_ = loader ? std::move(loader) : FileLoader(loadFromDisk);
    saver_ = saver ? std::move(saver) : FileSaver(saveToDisk);
}

void CoreAdapter::startMemoryMonitor(std::chrono::milliseconds interval, double warningFraction, double errorFraction) {
    if (monitor_) return;
    MemoryMonitorConfig config;
    config.sampleInterval = interval;
    // Ten minutes of history whatever the interval; the graphs show the last five.
    config.historyCapacity = static_cast<size_t>(std::max<int64_t>(60, 600000 / std::max<int64_t>(1, interval.count())));
    const MemorySnapshot now = readMemorySnapshot(nullptr);
    config.thresholds.metric = MemoryMetric::SystemUsed;
    config.thresholds.warningBytes = static_cast<uint64_t>(now.systemTotalBytes * warningFraction);
    config.thresholds.errorBytes = static_cast<uint64_t>(now.systemTotalBytes * errorFraction);
    thresholds_ = {config.thresholds.warningBytes, config.thresholds.errorBytes};
    monitor_ = std::make_unique<MemoryMonitor>(config);
    monitor_->setAlertCallback([this](MemoryAlertLevel level, const MemorySnapshot&, const std::string& message) {
        QMetaObject::invokeMethod(this, [this, level, text = QString::fromStdString(message)] {
            emit memoryAlert(static_cast<int>(level), text);
        }, Qt::QueuedConnection);
    });
    monitor_->startSampling();
    MemoryMonitor* monitor = monitor_.get();
    resourceSource_ = [monitor] {
        QVector<ResourceSample> samples;
        for (const MemorySnapshot& s : monitor->history()) samples << toResourceSample(s);
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
    for (const auto& service : registry_.all())
        if (service->taskType() == type) return service;
    return nullptr;
}

std::shared_ptr<ModelService> CoreAdapter::serviceById(const QString& id) const { return registry_.find(id.toStdString()); }

namespace {

TaskInput generationInput(const GenerationRequest& request) {
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
    return input;
}

QString missingServiceMessage(TaskType type) {
    return type == TaskType::Generation
        ? QObject::tr("No generation model is available. Open Tools ▸ Model Manager and point it at an AudioLDM model folder.")
        : QObject::tr("No analysis model is available. Open Tools ▸ Model Manager and point it at a wav2vec2 model folder.");
}

}  // namespace

quint64 CoreAdapter::generate(const GenerationRequest& request) {
    TaskOutcome outcome;
    outcome.type = TaskType::Generation;
    outcome.request = request;
    outcome.clipId = request.sourceClipId;
    TaskInput input = generationInput(request);
    if (request.sourceAudio) return submitVariation(request, std::move(input), std::move(outcome));
    try {
        AudioTask task = router_.makeTask(TaskType::Generation, std::move(input), TaskPriority::Normal, "",
                                          request.prompt.left(60).toStdString());
        return submit(std::move(task), std::move(outcome));
    } catch (const std::exception&) {
        return refuse(std::move(outcome), missingServiceMessage(TaskType::Generation));
    }
}

// A variation starts from a clip: the ServiceBridge carries its audio (resampled to what the
// generator expects) and its analysis, if any, into the generation task.
quint64 CoreAdapter::submitVariation(const GenerationRequest& request, TaskInput textInput, TaskOutcome outcome) {
    if (!serviceFor(TaskType::Generation)) return refuse(std::move(outcome), missingServiceMessage(TaskType::Generation));
    TaskInput clipInput;
    clipInput.audio = *request.sourceAudio;
    clipInput.prompt = textInput.prompt;
    TaskResult clipAnalysis;
    clipAnalysis.data = request.sourceAnalysis.is_object() ? request.sourceAnalysis : nlohmann::json::object();
    nlohmann::json parameters = textInput.parameters;
    parameters["prompt"] = textInput.prompt;
    const std::shared_ptr<ModelService> analyser = serviceFor(TaskType::Analysis);
    HandoffContext context = bridge_.transferContext(HandoffKind::AnalysisToGeneration, analyser ? analyser->id() : std::string(),
                                                     clipInput, clipAnalysis, parameters);
    QStringList problems;
    for (const HandoffIssue& issue : bridge_.validateHandoff(context))
        if (issue.severity == HandoffIssue::Severity::Error) problems << QString::fromStdString(issue.message);
    if (!problems.isEmpty()) return refuse(std::move(outcome), tr("This clip cannot start a variation: %1.").arg(problems.join(QStringLiteral("; "))));
    const QString serviceId = QString::fromStdString(serviceFor(TaskType::Generation)->id());
    try {
        TaskHandle handle = bridge_.executeHandoff(context, *queue_, TaskPriority::Normal, callbacksFor(outcome, serviceId));
        tasks_.insert(handle.id(), handle);
        emit taskQueued(handle.id(), outcome.type);
        return handle.id();
    } catch (const std::exception& e) {
        return refuse(std::move(outcome), readableMessage(e));
    }
}

quint64 CoreAdapter::analyse(quint64 clipId, std::shared_ptr<const AudioBuffer> audio) {
    TaskOutcome outcome;
    outcome.type = TaskType::Analysis;
    outcome.clipId = clipId;
    TaskInput input;
    if (audio) input.audio = *audio;
    try {
        // High priority: analysis is short and the user is waiting to read it.
        AudioTask task = router_.makeTask(TaskType::Analysis, std::move(input), TaskPriority::High, "", "analysis");
        return submit(std::move(task), std::move(outcome));
    } catch (const std::exception&) {
        return refuse(std::move(outcome), missingServiceMessage(TaskType::Analysis));
    }
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
    callbacks.onComplete = [this, outcome, serviceId](TaskId id, TaskState state, const std::string& error) mutable {
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
    return callbacks;
}

quint64 CoreAdapter::submit(AudioTask task, TaskOutcome outcome) {
    const QString serviceId = QString::fromStdString(task.serviceId);
    try {
        TaskHandle handle = queue_->submit(std::move(task), callbacksFor(outcome, serviceId));
        tasks_.insert(handle.id(), handle);
        emit taskQueued(handle.id(), outcome.type);
        return handle.id();
    } catch (const std::exception& e) {
        return refuse(std::move(outcome), readableMessage(e));
    }
}

TaskResult CoreAdapter::runOnWorker(const AudioTask& task, const ProgressCallback& progress, const CancellationToken& cancel) {
    const std::shared_ptr<ModelService> service = registry_.find(task.serviceId);
    const bool needsLoad = service && !service->isReady();
    if (needsLoad) {
        ProgressUpdate loading;
        loading.stage = "loading model";
        progress(loading);
    }
    QElapsedTimer timer;
    timer.start();
    TaskResult result = routerRunner_(task, progress, cancel);
    if (!result.metrics.is_object()) result.metrics = nlohmann::json::object();
    if (needsLoad) {
        result.metrics["model_load_seconds"] = service->info().loadSeconds;
        QMetaObject::invokeMethod(this, [this, id = QString::fromStdString(task.serviceId)] { emit serviceChanged(id); },
                                  Qt::QueuedConnection);
    }
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
