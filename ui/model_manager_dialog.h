#pragma once
// Tools ▸ Model Manager: where the models live (default <app data>/models, changeable), and for
// each model service its status, size on disk, device and precision, with Load and Unload. A
// missing or incomplete model folder gets a plain explanation of what to put where.
#include "core_adapter.h"

#include <QDialog>

class QLabel;
class QLineEdit;
class QPushButton;
class QTableWidget;

namespace grym::ui {

// The models folder from the settings, or the default under the user's app data directory.
QString modelsFolder();
void setModelsFolder(const QString& folder);
QString defaultModelsFolder();
// Empty when `folder` looks like a usable model (a config JSON and safetensors weights),
// otherwise what is wrong and what to do.
QString modelFolderProblem(const QString& folder);
qint64 folderSizeOnDisk(const QString& folder);

class ModelManagerDialog : public QDialog {
    Q_OBJECT
public:
    // The model folders each service expects under the models folder.
    static QStringList expectedModels() { return {QStringLiteral("audioldm"), QStringLiteral("wav2vec2")}; }

    explicit ModelManagerDialog(CoreAdapter* adapter, QWidget* parent = nullptr);

    void refresh();
    QTableWidget* table() const { return table_; }
    QLineEdit* folderEdit() const { return folder_; }
    QLabel* guidanceLabel() const { return guidance_; }

signals:
    void modelsFolderChanged(const QString& folder);

private:
    QString selectedService() const;
    void applyFolder(const QString& folder);

    CoreAdapter* adapter_;
    QLineEdit* folder_;
    QTableWidget* table_;
    QLabel* guidance_;
    QPushButton* load_;
    QPushButton* unload_;
};

}  // namespace grym::ui
