#include "model_manager_dialog.h"

#include "models_folder.h"
#include "recommended_models_panel.h"
#include "results_display.h"

#include <QDesktopServices>
#include <QDialogButtonBox>
#include <QDir>
#include <QDirIterator>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QShowEvent>
#include <QTableWidget>
#include <QUrl>
#include <QVBoxLayout>

namespace grym::ui {

namespace {
enum Column { Model, Status, Size, Device, Precision, Path, ColumnCount };
}

ModelManagerDialog::ModelManagerDialog(CoreAdapter* adapter, QWidget* parent, ModelDownloader::EnvironmentSource hubEnvironment)
    : QDialog(parent), adapter_(adapter) {
    setObjectName(QStringLiteral("modelManager"));
    setWindowTitle(tr("Model Manager"));
    folder_ = new QLineEdit(modelsFolder(), this);
    folder_->setObjectName(QStringLiteral("modelsFolderEdit"));
    auto* browse = new QPushButton(tr("Change…"), this);
    auto* open = new QPushButton(tr("Open"), this);
    open->setToolTip(tr("Show the folder in the file manager"));
    auto* useDefault = new QPushButton(tr("Default"), this);
    useDefault->setToolTip(defaultModelsFolder());
    table_ = new QTableWidget(0, ColumnCount, this);
    table_->setObjectName(QStringLiteral("modelTable"));
    table_->setHorizontalHeaderLabels({tr("Model"), tr("Status"), tr("Size on disk"), tr("Device"), tr("Precision"), tr("Folder")});
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->verticalHeader()->hide();
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    guidance_ = new QLabel(this);
    guidance_->setObjectName(QStringLiteral("modelGuidance"));
    guidance_->setWordWrap(true);
    guidance_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    load_ = new QPushButton(tr("Load"), this);
    load_->setObjectName(QStringLiteral("loadModelButton"));
    unload_ = new QPushButton(tr("Unload"), this);
    unload_->setObjectName(QStringLiteral("unloadModelButton"));
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    downloader_ = new ModelDownloader(std::move(hubEnvironment), {}, this);
    recommended_ = new RecommendedModelsPanel(downloader_, this);
    auto* recommendedHeading = new QLabel(tr("<b>Recommended models</b> — downloaded from the Hugging Face Hub into its "
                                             "shared cache, where diffusers and transformers find them too"), this);
    recommendedHeading->setWordWrap(true);

    auto* folderRow = new QHBoxLayout;
    folderRow->addWidget(new QLabel(tr("Models folder:"), this));
    folderRow->addWidget(folder_, 1);
    folderRow->addWidget(browse);
    folderRow->addWidget(open);
    folderRow->addWidget(useDefault);
    auto* actionRow = new QHBoxLayout;
    actionRow->addWidget(load_);
    actionRow->addWidget(unload_);
    actionRow->addStretch();
    actionRow->addWidget(buttons);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(folderRow);
    layout->addWidget(table_, 1);
    layout->addWidget(guidance_);
    layout->addLayout(actionRow);
    layout->addSpacing(8);
    layout->addWidget(recommendedHeading);
    layout->addWidget(recommended_);
    resize(940, 600);

    connect(browse, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Models folder"), folder_->text());
        if (!dir.isEmpty()) applyFolder(dir);
    });
    connect(open, &QPushButton::clicked, this, [this] {
        QDir().mkpath(folder_->text());
        QDesktopServices::openUrl(QUrl::fromLocalFile(folder_->text()));
    });
    connect(useDefault, &QPushButton::clicked, this, [this] { applyFolder(defaultModelsFolder()); });
    connect(folder_, &QLineEdit::editingFinished, this, [this] { applyFolder(folder_->text().trimmed()); });
    connect(load_, &QPushButton::clicked, this, [this] {
        if (const QString id = selectedService(); !id.isEmpty()) adapter_->loadModel(id);
    });
    connect(unload_, &QPushButton::clicked, this, [this] {
        if (const QString id = selectedService(); !id.isEmpty()) adapter_->unloadModel(id);
    });
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(table_, &QTableWidget::itemSelectionChanged, this, [this] {
        const bool any = !selectedService().isEmpty();
        load_->setEnabled(any);
        unload_->setEnabled(any);
    });
    connect(recommended_, &RecommendedModelsPanel::modelRegistered, this, &ModelManagerDialog::modelRegistered);
    connect(adapter_, &CoreAdapter::serviceChanged, this, &ModelManagerDialog::refresh);
    connect(adapter_, &CoreAdapter::serviceFailed, this, [this](const QString& id, const QString& message) {
        guidance_->setText(tr("<b>%1</b>: %2").arg(id.toHtmlEscaped(), message.toHtmlEscaped()));
    });
    refresh();
}

void ModelManagerDialog::showEvent(QShowEvent* event) {
    QDialog::showEvent(event);
    recommended_->refresh();  // the cache may have changed while the dialog was closed
}

void ModelManagerDialog::showRecommended(const QString& repoId) { recommended_->highlight(repoId); }

void ModelManagerDialog::applyFolder(const QString& folder) {
    if (folder.isEmpty() || folder == modelsFolder()) {
        folder_->setText(modelsFolder());
        return;
    }
    folder_->setText(folder);
    setModelsFolder(folder);
    emit modelsFolderChanged(folder);
    refresh();
}

QString ModelManagerDialog::selectedService() const {
    const auto rows = table_->selectionModel()->selectedRows();
    if (rows.isEmpty()) return {};
    const QTableWidgetItem* item = table_->item(rows.front().row(), Model);
    return item && item->data(Qt::UserRole).toBool() ? item->text() : QString();
}

void ModelManagerDialog::refresh() {
    const QString selected = selectedService();
    table_->setRowCount(0);
    QStringList problems;
    QStringList shown;
    auto addRow = [this](const QString& id, const QString& status, const QString& folder, const QString& device,
                         const QString& precision, bool isService) {
        const int row = table_->rowCount();
        table_->insertRow(row);
        auto* name = new QTableWidgetItem(id);
        name->setData(Qt::UserRole, isService);
        table_->setItem(row, Model, name);
        table_->setItem(row, Status, new QTableWidgetItem(status));
        const bool present = QFileInfo(folder).isDir();
        table_->setItem(row, Size, new QTableWidgetItem(present ? formatBytes(static_cast<double>(folderSizeOnDisk(folder))) : tr("—")));
        table_->setItem(row, Device, new QTableWidgetItem(device));
        table_->setItem(row, Precision, new QTableWidgetItem(precision));
        table_->setItem(row, Path, new QTableWidgetItem(folder));
        return row;
    };
    for (const ServiceInfo& info : adapter_->serviceInfos()) {
        const QString id = QString::fromStdString(info.id);
        QString folder = QString::fromStdString(info.modelPath);
        if (folder.isEmpty()) folder = QDir(modelsFolder()).filePath(id);
        QString status = QString::fromLatin1(toString(info.status));
        if (info.status == ServiceStatus::Failed && !info.statusMessage.empty())
            status += QStringLiteral(": ") + QString::fromStdString(info.statusMessage);
        const int row = addRow(id, status, folder, QString::fromLatin1(toString(info.device)),
                               QString::fromLatin1(toString(info.precision)), true);
        if (id == selected) table_->selectRow(row);
        if (info.status == ServiceStatus::Failed && !info.statusMessage.empty())
            problems << QStringLiteral("<b>%1</b> failed to load: %2").arg(id.toHtmlEscaped(), QString::fromStdString(info.statusMessage).toHtmlEscaped());
        else if (const QString problem = modelFolderProblem(folder); !problem.isEmpty() && info.status != ServiceStatus::Ready)
            problems << QStringLiteral("<b>%1</b>: %2").arg(id.toHtmlEscaped(), problem.toHtmlEscaped());
        shown << id;
    }
    for (const QString& id : expectedModels()) {
        if (shown.contains(id)) continue;
        const QString folder = QDir(modelsFolder()).filePath(id);
        const QString problem = modelFolderProblem(folder);
        addRow(id, problem.isEmpty() ? tr("found, not in use") : tr("not installed"), folder, tr("—"), tr("—"), false);
        if (!problem.isEmpty()) problems << QStringLiteral("<b>%1</b>: %2").arg(id.toHtmlEscaped(), problem.toHtmlEscaped());
    }
    guidance_->setText(problems.isEmpty() ? tr("All models are in place.") : problems.join(QStringLiteral("<br>")));
    load_->setEnabled(!selectedService().isEmpty());
    unload_->setEnabled(!selectedService().isEmpty());
}

}  // namespace grym::ui
