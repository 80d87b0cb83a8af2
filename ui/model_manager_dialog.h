#pragma once
// Tools ▸ Model Manager: where the models live (default <app data>/models, changeable), and for
// each model service its status, size on disk, device and precision, with Load and Unload. A
// missing or incomplete model folder gets a plain explanation of what to put where. Below, the
// recommended models with their downloads from the Hugging Face Hub (RecommendedModelsPanel).
#include "core_adapter.h"
#include "model_downloader.h"

#include <QDialog>

class QLabel;
class QLineEdit;
class QPushButton;
class QTableWidget;

namespace grym::ui {

class RecommendedModelsPanel;

class ModelManagerDialog : public QDialog {
    Q_OBJECT
public:
    // The model folders each service expects under the models folder.
    static QStringList expectedModels() { return {QStringLiteral("audioldm"), QStringLiteral("wav2vec2")}; }

    // `hubEnvironment` says where the Hub and its cache are (empty: the process environment).
    explicit ModelManagerDialog(CoreAdapter* adapter, QWidget* parent = nullptr,
                                ModelDownloader::EnvironmentSource hubEnvironment = {});

    void refresh();
    // Selects a recommended model's row, ready for its Download button.
    void showRecommended(const QString& repoId);
    RecommendedModelsPanel* recommendedModels() const { return recommended_; }
    QTableWidget* table() const { return table_; }
    QLineEdit* folderEdit() const { return folder_; }
    QLabel* guidanceLabel() const { return guidance_; }

signals:
    void modelsFolderChanged(const QString& folder);
    // `repoId` (in the Hugging Face cache) was chosen for `service`; the app registers it.
    void modelRegistered(const QString& service, const QString& repoId);

protected:
    void showEvent(QShowEvent* event) override;

private:
    QString selectedService() const;
    void applyFolder(const QString& folder);

    CoreAdapter* adapter_;
    QLineEdit* folder_;
    QTableWidget* table_;
    QLabel* guidance_;
    QPushButton* load_;
    QPushButton* unload_;
    ModelDownloader* downloader_;
    RecommendedModelsPanel* recommended_;
};

}  // namespace grym::ui
