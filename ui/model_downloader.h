#pragma once
// The Model Manager's one link to core/hub: what the Hugging Face cache holds, how big a
// recommended repo's download is, and the download itself. Every call returns at once; the cache
// scan, the Hub requests and the pulls run on this object's worker threads and their results come
// back as signals on the GUI thread (queued). Progress is sent at most every 100 ms.
//
// The Hub environment (endpoint, cache folder, token, offline) comes from a factory, called for
// each job, so the app reads the process environment and tests point it at a loopback Hub.
#include "hub/hub_client.h"
#include "hub/hub_environment.h"

#include <QHash>
#include <QObject>
#include <QString>
#include <QThreadPool>
#include <QVector>

#include <atomic>
#include <functional>
#include <memory>

namespace grym::ui {

// One model repo found in the Hugging Face cache.
struct CachedModel {
    QString repoId;
    quint64 bytesOnDisk = 0;   // every blob, partial downloads included
    quint64 partialBytes = 0;  // in unfinished downloads (a pull resumes them)
    bool complete = false;     // refs/main names a finished snapshot
};

struct DownloadProgress {
    QString repoId;
    QString file;              // the file being fetched now
    quint64 bytesDone = 0;     // of bytesTotal, counting what was already in the cache
    quint64 bytesTotal = 0;
    double bytesPerSecond = 0;
    double secondsLeft = -1;   // -1 until a rate is known
};

class ModelDownloader : public QObject {
    Q_OBJECT
public:
    using EnvironmentSource = std::function<hub::HubEnvironment()>;

    // An empty `environment` reads the process environment (HubEnvironment::fromProcessEnvironment).
    explicit ModelDownloader(EnvironmentSource environment = {}, hub::HubClientOptions clientOptions = {},
                             QObject* parent = nullptr);
    ~ModelDownloader() override;  // cancels what runs and waits for it; no signal comes after it
    ModelDownloader(const ModelDownloader&) = delete;
    ModelDownloader& operator=(const ModelDownloader&) = delete;

    // Lists the cache: cacheScanned, or cacheScanFailed with the reason.
    void scanCache();
    // Asks the Hub how many bytes a download of `repoId` fetches: downloadSizeKnown, or
    // downloadSizeUnknown (offline, not found, gated...) with the reason.
    void fetchDownloadSize(const QString& repoId);
    // Pulls `repoId` into the cache, resuming what an earlier pull left: downloadProgressed
    // while it runs, then downloadFinished, or downloadFailed (also when cancelled).
    void download(const QString& repoId);
    // Stops the download of `repoId` at its next check; the part fetched stays for a resume.
    void cancel(const QString& repoId);
    bool isDownloading(const QString& repoId) const { return downloads_.contains(repoId); }
    bool anyDownloading() const { return !downloads_.isEmpty(); }

signals:
    void cacheScanned(const QVector<grym::ui::CachedModel>& models);
    void cacheScanFailed(const QString& message);
    void downloadSizeKnown(const QString& repoId, quint64 bytes);
    void downloadSizeUnknown(const QString& repoId, const QString& reason);
    void downloadProgressed(const grym::ui::DownloadProgress& progress);
    void downloadFinished(const QString& repoId, const QString& snapshotFolder);
    // `message` is for a person: the repo, what went wrong and what to do.
    void downloadFailed(const QString& repoId, const QString& message, bool cancelled);

private:
    using CancelFlag = std::shared_ptr<std::atomic<bool>>;
    void post(std::function<void()> call);
    void runPull(const QString& repoId, const CancelFlag& cancelled);

    EnvironmentSource environment_;
    hub::HubClientOptions clientOptions_;
    QHash<QString, CancelFlag> downloads_;  // running, by repo id (GUI thread only)
    std::atomic<bool> shuttingDown_{false};
    QThreadPool lookupPool_;    // cache scans and repo-info requests
    QThreadPool downloadPool_;  // pulls
};

// "unet/x.safetensors: 120 MiB of 1.1 GiB at 12 MiB/s, about 1:05.0 left"
QString describeProgress(const DownloadProgress& progress);

}  // namespace grym::ui

Q_DECLARE_METATYPE(grym::ui::CachedModel)
Q_DECLARE_METATYPE(grym::ui::DownloadProgress)
