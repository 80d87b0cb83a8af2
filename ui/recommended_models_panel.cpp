#include "recommended_models_panel.h"

#include "model_choice.h"
#include "models_folder.h"
#include "results_display.h"

#include "hub/recommended_models.h"

#include <QDir>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

namespace grym::ui {

namespace {

constexpr int kProgressSteps = 1000;

QString repoOfRow(const QTableWidget* table, int row) { return table->item(row, RecommendedModelsPanel::Model)->text(); }

}  // namespace

RecommendedModelsPanel::RecommendedModelsPanel(ModelDownloader* downloader, QWidget* parent)
    : QWidget(parent), downloader_(downloader) {
    setObjectName(QStringLiteral("recommendedModels"));
    table_ = new QTableWidget(0, ColumnCount, this);
    table_->setObjectName(QStringLiteral("recommendedModelTable"));
    table_->setHorizontalHeaderLabels({tr("Model"), tr("For"), tr("Download"), tr("In the cache"), QString(), tr("Progress")});
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table_->horizontalHeader()->setSectionResizeMode(Progress, QHeaderView::Stretch);
    table_->verticalHeader()->hide();
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    status_ = new QLabel(this);
    status_->setObjectName(QStringLiteral("downloadStatus"));
    status_->setWordWrap(true);
    status_->setTextInteractionFlags(Qt::TextSelectableByMouse);

    for (const hub::RecommendedModel& model : hub::recommendedModels()) {
        const QString repoId = QString::fromStdString(model.repoId);
        const int row = table_->rowCount();
        table_->insertRow(row);
        auto* name = new QTableWidgetItem(repoId);
        name->setToolTip(QString::fromStdString(model.description));
        table_->setItem(row, Model, name);
        table_->setItem(row, Service, new QTableWidgetItem(QString::fromStdString(model.service)));
        table_->setItem(row, DownloadSize, new QTableWidgetItem(tr("—")));
        table_->setItem(row, Installed, new QTableWidgetItem(tr("—")));
        auto* button = new QPushButton(tr("Download"), table_);
        button->setObjectName(QStringLiteral("modelActionButton"));
        connect(button, &QPushButton::clicked, this, [this, repoId] { onActionClicked(repoId); });
        table_->setCellWidget(row, Action, button);
    }
    // Room for every row, so the services table above gives way rather than this one scrolling.
    table_->setMinimumHeight(table_->horizontalHeader()->sizeHint().height() + table_->verticalHeader()->length() +
                             2 * table_->frameWidth());

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(table_, 1);
    layout->addWidget(status_);

    connect(downloader_, &ModelDownloader::cacheScanned, this, &RecommendedModelsPanel::onCacheScanned);
    connect(downloader_, &ModelDownloader::cacheScanFailed, this, [this](const QString& message) {
        showStatus(tr("The Hugging Face cache could not be read: %1").arg(message), true);
    });
    connect(downloader_, &ModelDownloader::downloadSizeKnown, this, [this](const QString& repoId, quint64 bytes) {
        if (const int row = rowOf(repoId); row >= 0) {
            table_->item(row, DownloadSize)->setText(formatBytes(static_cast<double>(bytes)));
            table_->item(row, DownloadSize)->setToolTip(tr("What a download of %1 fetches").arg(repoId));
        }
    });
    connect(downloader_, &ModelDownloader::downloadSizeUnknown, this, [this](const QString& repoId, const QString& reason) {
        sizesAsked_.remove(repoId);  // ask again on the next refresh (back online, logged in)
        if (const int row = rowOf(repoId); row >= 0) table_->item(row, DownloadSize)->setToolTip(reason);
    });
    connect(downloader_, &ModelDownloader::downloadProgressed, this, &RecommendedModelsPanel::onProgress);
    connect(downloader_, &ModelDownloader::downloadFinished, this, &RecommendedModelsPanel::onFinished);
    connect(downloader_, &ModelDownloader::downloadFailed, this, &RecommendedModelsPanel::onFailed);
    updateRows();
}

int RecommendedModelsPanel::rowOf(const QString& repoId) const {
    for (int row = 0; row < table_->rowCount(); ++row)
        if (repoOfRow(table_, row) == repoId) return row;
    return -1;
}

QPushButton* RecommendedModelsPanel::actionButton(const QString& repoId) const {
    const int row = rowOf(repoId);
    return row < 0 ? nullptr : qobject_cast<QPushButton*>(table_->cellWidget(row, Action));
}

QProgressBar* RecommendedModelsPanel::progressBar(const QString& repoId) const {
    const int row = rowOf(repoId);
    return row < 0 ? nullptr : qobject_cast<QProgressBar*>(table_->cellWidget(row, Progress));
}

// The bar lives in the row only from the start of a download (a hidden cell widget would be
// shown again by the table's layout).
QProgressBar* RecommendedModelsPanel::showProgressBar(const QString& repoId) {
    if (QProgressBar* bar = progressBar(repoId)) return bar;
    auto* bar = new QProgressBar(table_);
    bar->setRange(0, kProgressSteps);
    bar->setValue(0);
    table_->setCellWidget(rowOf(repoId), Progress, bar);
    return bar;
}

void RecommendedModelsPanel::refresh() {
    downloader_->scanCache();
    for (int row = 0; row < table_->rowCount(); ++row) {
        const QString repoId = repoOfRow(table_, row);
        if (sizesAsked_.contains(repoId)) continue;
        sizesAsked_.insert(repoId);
        downloader_->fetchDownloadSize(repoId);
    }
}

void RecommendedModelsPanel::highlight(const QString& repoId) {
    const int row = rowOf(repoId);
    if (row < 0) return;
    table_->selectRow(row);
    table_->scrollToItem(table_->item(row, Model));
    if (QPushButton* button = actionButton(repoId)) button->setFocus();
}

void RecommendedModelsPanel::onCacheScanned(const QVector<CachedModel>& models) {
    cache_.clear();
    for (const CachedModel& model : models) cache_.insert(model.repoId, model);
    chooseCachedModelsForEmptyServices();
    updateRows();
}

void RecommendedModelsPanel::chooseCachedModelsForEmptyServices() {
    for (int row = 0; row < table_->rowCount(); ++row) {
        const QString repoId = repoOfRow(table_, row);
        const QString service = table_->item(row, Service)->text();
        if (!chosenModelRepo(service).isEmpty() || !cache_.value(repoId).complete) continue;
        if (modelFolderProblem(QDir(modelsFolder()).filePath(service)).isEmpty()) continue;  // the folder's model is in use
        choose(repoId);
        showStatus(tr("%1 was found in the Hugging Face cache and now feeds %2.").arg(repoId, service), false);
    }
}

void RecommendedModelsPanel::onActionClicked(const QString& repoId) {
    if (downloader_->isDownloading(repoId)) {
        downloader_->cancel(repoId);
        showStatus(tr("Cancelling the download of %1…").arg(repoId), false);
    } else if (const CachedModel cached = cache_.value(repoId); cached.complete && cached.partialBytes == 0) {
        choose(repoId);
        showStatus(tr("%1 now feeds %2.").arg(repoId, table_->item(rowOf(repoId), Service)->text()), false);
    } else {
        startDownload(repoId);
    }
    updateRows();
}

void RecommendedModelsPanel::startDownload(const QString& repoId) {
    const bool resuming = cache_.value(repoId).partialBytes > 0;
    downloader_->download(repoId);
    showProgressBar(repoId)->setValue(0);
    showStatus(resuming ? tr("Resuming the download of %1…").arg(repoId) : tr("Starting the download of %1…").arg(repoId), false);
}

void RecommendedModelsPanel::onProgress(const DownloadProgress& progress) {
    const int row = rowOf(progress.repoId);
    if (row < 0) return;
    if (progress.bytesTotal > 0) {
        showProgressBar(progress.repoId)->setValue(static_cast<int>(kProgressSteps * static_cast<double>(progress.bytesDone) / static_cast<double>(progress.bytesTotal)));
        table_->item(row, DownloadSize)->setText(formatBytes(static_cast<double>(progress.bytesTotal)));
    }
    showStatus(tr("Downloading %1 — %2").arg(progress.repoId, describeProgress(progress)), false);
}

void RecommendedModelsPanel::onFinished(const QString& repoId) {
    showProgressBar(repoId)->setValue(kProgressSteps);
    choose(repoId);
    showStatus(tr("%1 is downloaded and now feeds %2.").arg(repoId, table_->item(rowOf(repoId), Service)->text()), false);
    downloader_->scanCache();
    updateRows();
}

void RecommendedModelsPanel::onFailed(const QString& repoId, const QString& message, bool cancelled) {
    table_->removeCellWidget(rowOf(repoId), Progress);
    showStatus(message, !cancelled);
    downloader_->scanCache();  // the partial download's size, for the Resume button
    updateRows();
}

void RecommendedModelsPanel::choose(const QString& repoId) {
    const int row = rowOf(repoId);
    if (row < 0) return;
    const QString service = table_->item(row, Service)->text();
    setChosenModelRepo(service, repoId);
    emit modelRegistered(service, repoId);
}

void RecommendedModelsPanel::showStatus(const QString& text, bool problem) {
    status_->setText(text);
    status_->setProperty("problem", problem);
    status_->setStyleSheet(problem ? QStringLiteral("color: #ff6b6b;") : QString());
}

void RecommendedModelsPanel::updateRows() {
    for (int row = 0; row < table_->rowCount(); ++row) updateRow(row);
}

void RecommendedModelsPanel::updateRow(int row) {
    const QString repoId = repoOfRow(table_, row);
    const QString service = table_->item(row, Service)->text();
    const bool inUse = chosenModelRepo(service) == repoId;
    const bool downloading = downloader_->isDownloading(repoId);
    const auto found = cache_.constFind(repoId);

    QString installed = tr("—");
    if (found != cache_.constEnd() && found->partialBytes > 0)
        installed = tr("%1, partly downloaded").arg(formatBytes(static_cast<double>(found->bytesOnDisk)));
    else if (found != cache_.constEnd() && found->complete)
        installed = inUse ? tr("%1, in use").arg(formatBytes(static_cast<double>(found->bytesOnDisk)))
                          : formatBytes(static_cast<double>(found->bytesOnDisk));
    else if (found != cache_.constEnd())
        installed = tr("%1, incomplete").arg(formatBytes(static_cast<double>(found->bytesOnDisk)));
    table_->item(row, Installed)->setText(installed);

    QPushButton* button = actionButton(repoId);
    const bool otherDownloading = downloader_->anyDownloading() && !downloading;
    if (downloading) {
        button->setText(tr("Cancel"));
        button->setToolTip(tr("Stop the download; what is fetched stays for a resume"));
        button->setEnabled(true);
    } else if (found != cache_.constEnd() && (found->partialBytes > 0 || !found->complete)) {
        button->setText(tr("Resume"));
        button->setToolTip(tr("Continue the download of %1 where it stopped").arg(repoId));
        button->setEnabled(!otherDownloading);
    } else if (found != cache_.constEnd() && inUse) {
        button->setText(tr("In use"));
        button->setToolTip(tr("%1 feeds %2").arg(repoId, service));
        button->setEnabled(false);
    } else if (found != cache_.constEnd()) {
        button->setText(tr("Use"));
        button->setToolTip(tr("Let %1 feed %2").arg(repoId, service));
        button->setEnabled(true);
    } else {
        button->setText(tr("Download"));
        button->setToolTip(tr("Download %1 into the Hugging Face cache").arg(repoId));
        button->setEnabled(!otherDownloading);
    }
    if (otherDownloading && !button->isEnabled()) button->setToolTip(tr("One download at a time: wait for the one running"));
}

}  // namespace grym::ui
