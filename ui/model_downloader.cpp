#include "model_downloader.h"

#include "clip.h"
#include "results_display.h"

#include "hub/cache_inventory.h"
#include "hub/file_selection.h"
#include "hub/hub_error.h"

#include <QMetaObject>

#include <algorithm>
#include <chrono>
#include <set>

namespace grym::ui {

namespace {

constexpr auto kProgressInterval = std::chrono::milliseconds(100);

// The files a pull of this repo takes, judged from the listing alone. A diffusers pipeline's
// components are the folders its model_index.json names; before that file is fetched, every
// top-level folder stands in for one (the AudioLDM repos keep nothing else in folders).
std::vector<std::string> filesAPullTakes(const hub::RepoInfo& info) {
    const std::vector<std::string> paths = info.paths();
    if (info.find("model_index.json")) {
        nlohmann::json components = nlohmann::json::object();
        std::set<std::string> folders;
        for (const std::string& path : paths)
            if (const auto slash = path.find('/'); slash != std::string::npos) folders.insert(path.substr(0, slash));
        for (const std::string& folder : folders) components[folder] = {"library", "Class"};
        return hub::selectPipelineFiles(paths, components);
    }
    if (info.find("config.json")) return hub::selectTransformersFiles(paths);
    return paths;
}

quint64 downloadBytes(const hub::RepoInfo& info) {
    quint64 total = 0;
    for (const std::string& path : filesAPullTakes(info))
        if (const hub::RepoFile* file = info.find(path)) total += file->size;
    return total;
}

CachedModel toCachedModel(const hub::CachedRepo& repo) {
    CachedModel model;
    model.repoId = QString::fromStdString(repo.repoId);
    model.bytesOnDisk = repo.bytesOnDisk;
    model.partialBytes = repo.partialBytes;
    model.complete = std::any_of(repo.revisions.begin(), repo.revisions.end(), [](const hub::CachedRevision& revision) {
        return std::find(revision.refs.begin(), revision.refs.end(), "main") != revision.refs.end();
    });
    return model;
}

// What a person should read for a failed pull: a headline for the class of failure, then the
// client's message, which already names the repo or file and says what to do.
QString describeFailure(const QString& repoId, HubErrorKind kind, const QString& message) {
    switch (kind) {
    case HubErrorKind::Cancelled:
        return QObject::tr("Download of %1 cancelled. The part already fetched is kept: Resume continues from there.").arg(repoId);
    case HubErrorKind::Unauthorized: return QObject::tr("Needs a login: %1").arg(message);
    case HubErrorKind::Offline: return QObject::tr("Offline: %1").arg(message);
    case HubErrorKind::Network: return QObject::tr("The Hub could not be reached: %1").arg(message);
    case HubErrorKind::DiskFull: return QObject::tr("Disk full: %1").arg(message);
    case HubErrorKind::ChecksumMismatch: return QObject::tr("Damaged download, not kept: %1").arg(message);
    case HubErrorKind::Unsupported: return QObject::tr("Not a model grym-synth can run: %1").arg(message);
    case HubErrorKind::RepoNotFound: return QObject::tr("Not found: %1").arg(message);
    default: return QObject::tr("Download of %1 failed: %2").arg(repoId, message);
    }
}

}  // namespace

QString describeProgress(const DownloadProgress& progress) {
    QString text = progress.bytesTotal > 0
                       ? QObject::tr("%1 of %2").arg(formatBytes(static_cast<double>(progress.bytesDone)),
                                                     formatBytes(static_cast<double>(progress.bytesTotal)))
                       : formatBytes(static_cast<double>(progress.bytesDone));
    if (progress.bytesPerSecond > 0) text += QObject::tr(" at %1/s").arg(formatBytes(progress.bytesPerSecond));
    if (progress.secondsLeft >= 0) text += QObject::tr(", about %1 left").arg(formatSeconds(progress.secondsLeft));
    if (!progress.file.isEmpty()) text = progress.file + QStringLiteral(": ") + text;
    return text;
}

ModelDownloader::ModelDownloader(EnvironmentSource environment, hub::HubClientOptions clientOptions, QObject* parent)
    : QObject(parent), environment_(std::move(environment)), clientOptions_(std::move(clientOptions)) {
    if (!environment_) environment_ = &hub::HubEnvironment::fromProcessEnvironment;
    qRegisterMetaType<CachedModel>();
    qRegisterMetaType<DownloadProgress>();
    lookupPool_.setMaxThreadCount(2);
    downloadPool_.setMaxThreadCount(1);  // one pull at a time: they share the disk and the line
}

ModelDownloader::~ModelDownloader() {
    shuttingDown_ = true;
    for (const CancelFlag& flag : std::as_const(downloads_)) *flag = true;
    lookupPool_.waitForDone();
    downloadPool_.waitForDone();
}

// Jobs post their results here; the pools are drained before this object goes, so a posted
// call never outlives it (Qt drops calls still queued for a deleted object).
void ModelDownloader::post(std::function<void()> call) {
    QMetaObject::invokeMethod(this, std::move(call), Qt::QueuedConnection);
}

void ModelDownloader::scanCache() {
    lookupPool_.start([this] {
        try {
            const hub::HubCache cache(environment_().cacheDirectory);
            QVector<CachedModel> models;
            for (const hub::CachedRepo& repo : hub::listCachedRepos(cache)) models << toCachedModel(repo);
            post([this, models] { emit cacheScanned(models); });
        } catch (const std::exception& e) {
            const QString message = QString::fromStdString(e.what());
            post([this, message] { emit cacheScanFailed(message); });
        }
    });
}

void ModelDownloader::fetchDownloadSize(const QString& repoId) {
    lookupPool_.start([this, repoId] {
        try {
            hub::HubClient client(environment_(), clientOptions_);
            const hub::RepoInfo info = client.fetchRepoInfo(repoId.toStdString(), "main", [this] { return shuttingDown_.load(); });
            const quint64 bytes = downloadBytes(info);
            post([this, repoId, bytes] { emit downloadSizeKnown(repoId, bytes); });
        } catch (const std::exception& e) {
            const QString reason = QString::fromStdString(e.what());
            post([this, repoId, reason] { emit downloadSizeUnknown(repoId, reason); });
        }
    });
}

void ModelDownloader::download(const QString& repoId) {
    if (downloads_.contains(repoId)) return;
    auto cancelled = std::make_shared<std::atomic<bool>>(false);
    downloads_.insert(repoId, cancelled);
    downloadPool_.start([this, repoId, cancelled] { runPull(repoId, cancelled); });
}

void ModelDownloader::cancel(const QString& repoId) {
    if (const CancelFlag flag = downloads_.value(repoId)) *flag = true;
}

// On a download worker.
void ModelDownloader::runPull(const QString& repoId, const CancelFlag& cancelled) {
    auto finish = [this, repoId](std::function<void()> report) {
        post([this, repoId, report = std::move(report)] {
            downloads_.remove(repoId);
            report();
        });
    };
    try {
        hub::HubClient client(environment_(), clientOptions_);
        hub::PullOptions options;
        options.cancelled = [cancelled] { return cancelled->load(); };
        auto lastSent = std::chrono::steady_clock::time_point{};
        options.progress = [this, repoId, &lastSent](const hub::PullProgress& update) {
            const auto now = std::chrono::steady_clock::now();
            const bool last = update.bytesTotal > 0 && update.bytesDone >= update.bytesTotal;
            if (!last && now - lastSent < kProgressInterval) return;
            lastSent = now;
            DownloadProgress progress{repoId, QString::fromStdString(update.file), update.bytesDone, update.bytesTotal,
                                      update.bytesPerSecond, update.secondsLeft};
            post([this, progress] { emit downloadProgressed(progress); });
        };
        const hub::PullResult result = client.pull(repoId.toStdString(), options);
        const QString folder = QString::fromStdString(result.snapshotFolder.string());
        finish([this, repoId, folder] { emit downloadFinished(repoId, folder); });
    } catch (const HubError& e) {
        const bool wasCancelled = e.kind() == HubErrorKind::Cancelled;
        const QString message = describeFailure(repoId, e.kind(), QString::fromStdString(e.what()));
        finish([this, repoId, message, wasCancelled] { emit downloadFailed(repoId, message, wasCancelled); });
    } catch (const std::exception& e) {
        const QString message = describeFailure(repoId, HubErrorKind::Protocol, QString::fromStdString(e.what()));
        finish([this, repoId, message] { emit downloadFailed(repoId, message, false); });
    }
}

}  // namespace grym::ui
