#pragma once
// The Model Manager's list of the published models grym-synth is made for (hub::recommendedModels):
// for each, the service it feeds, its download size (asked of the Hub, "—" until known or when
// offline), whether it is in the Hugging Face cache (size on disk, a partial download to resume),
// and one button: Download / Resume / Cancel / Use. A finished download, or a recommended model
// already in the cache while its service has none, is chosen for its service at once
// (model_choice.h) and announced with modelRegistered. Progress and errors are shown as text in
// the panel, never as message boxes.
#include "model_downloader.h"

#include <QHash>
#include <QSet>
#include <QWidget>

class QLabel;
class QProgressBar;
class QPushButton;
class QTableWidget;

namespace grym::ui {

class RecommendedModelsPanel : public QWidget {
    Q_OBJECT
public:
    enum Column { Model, Service, DownloadSize, Installed, Action, Progress, ColumnCount };

    // `downloader` is owned by the caller and outlives the panel.
    explicit RecommendedModelsPanel(ModelDownloader* downloader, QWidget* parent = nullptr);

    // Scans the cache again and asks the Hub for the sizes not known yet.
    void refresh();
    // Selects the row of `repoId` and puts the focus on its button.
    void highlight(const QString& repoId);

    QTableWidget* table() const { return table_; }
    QLabel* statusLabel() const { return status_; }
    int rowOf(const QString& repoId) const;
    QPushButton* actionButton(const QString& repoId) const;
    // Null until a download of `repoId` starts in this panel.
    QProgressBar* progressBar(const QString& repoId) const;

signals:
    // `repoId` now feeds `service` (the settings say so); the app registers the service again.
    void modelRegistered(const QString& service, const QString& repoId);

private:
    void onCacheScanned(const QVector<CachedModel>& models);
    void onProgress(const DownloadProgress& progress);
    void onFinished(const QString& repoId);
    void onFailed(const QString& repoId, const QString& message, bool cancelled);
    void onActionClicked(const QString& repoId);
    void startDownload(const QString& repoId);
    QProgressBar* showProgressBar(const QString& repoId);
    void choose(const QString& repoId);
    // A service with no chosen repo and no model folder gets the first recommended repo the
    // cache holds complete (a model pulled by the CLI, diffusers or transformers counts).
    void chooseCachedModelsForEmptyServices();
    void showStatus(const QString& text, bool problem);
    void updateRow(int row);
    void updateRows();

    ModelDownloader* downloader_;
    QTableWidget* table_;
    QLabel* status_;
    QHash<QString, CachedModel> cache_;  // the last scan, by repo id
    QSet<QString> sizesAsked_;
};

}  // namespace grym::ui
