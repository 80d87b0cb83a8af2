// The Model Manager's recommended models against a loopback Hugging Face Hub (tests/support/
// fake_hub): download with progress, registration, cancel and resume, errors as text, and the
// Generate dock's offer on a first start without a model.
#include "core_adapter.h"
#include "generation_form.h"
#include "main_window.h"
#include "model_choice.h"
#include "model_downloader.h"
#include "model_manager_dialog.h"
#include "models_folder.h"
#include "recommended_models_panel.h"
#include "results_display.h"

#include "api/installed_services.h"
#include "core/hub/hub_test_support.h"
#include "hub/cache_inventory.h"
#include "ui/ui_test_support.h"

#include <catch2/catch.hpp>

#include <QDir>
#include <QLabel>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>

#include <filesystem>

using namespace grym;
using namespace grym::ui;
using grym::test::waitFor;
namespace fs = std::filesystem;

namespace {

const QString kRepo = QStringLiteral("cvssp/audioldm-s-full-v2");
const std::string kUnetWeights = "unet/diffusion_pytorch_model.safetensors";
const fs::path kGoldenPipeline = fs::path(GRYM_TEST_DATA_DIR) / "golden" / "audioldm_pipeline_ddim";
constexpr int kDownloadTimeoutMs = 60000;

// The bytes a pull of the golden pipeline fetches: every file but the golden case's own data.
quint64 pipelineDownloadBytes() {
    quint64 total = 0;
    for (const auto& entry : fs::recursive_directory_iterator(kGoldenPipeline)) {
        const std::string name = entry.path().filename().string();
        if (entry.is_regular_file() && name != "case.json" && name != "io.safetensors") total += entry.file_size();
    }
    return total;
}

// The bytes of `path` written so far by an unfinished download of `repo`.
quint64 incompleteBytes(const fs::path& cache, const test::FakeRepo& repo, const std::string& path) {
    std::error_code ec;
    const auto size = fs::file_size(hub::HubCache(cache).incompletePath(repo.id, repo.find(path)->sha256), ec);
    return ec ? 0 : size;
}

bool anyMessageBoxOpen() {
    for (QWidget* widget : QApplication::topLevelWidgets())
        if (qobject_cast<QMessageBox*>(widget) && widget->isVisible()) return true;
    return false;
}

// A fake Hub serving the golden pipeline as the recommended AudioLDM repo, an empty cache, and
// settings with a models folder that holds no model.
struct HubFixture {
    test::FakeHub hub;
    QTemporaryDir scratch;
    std::shared_ptr<AudioApi> api = std::make_shared<AudioApi>();
    CoreAdapter adapter{api};

    const test::FakeRepo& repo = hub.addRepoFromFolder(kRepo.toStdString(), kGoldenPipeline);

    HubFixture() {
        QSettings().clear();
        setModelsFolder(scratch.filePath(QStringLiteral("models")));
    }
    ~HubFixture() { QSettings().clear(); }

    fs::path cache() const { return fs::path(scratch.filePath(QStringLiteral("hf-cache")).toStdString()); }
    hub::HubEnvironment environment() const { return test::fakeHubEnvironment(hub, cache()); }
    ModelDownloader::EnvironmentSource environmentSource() const {
        return [this] { return environment(); };
    }
    std::unique_ptr<ModelManagerDialog> openDialog() {
        auto dialog = std::make_unique<ModelManagerDialog>(&adapter, nullptr, environmentSource());
        dialog->show();
        return dialog;
    }
};

}  // namespace

TEST_CASE("The Model Manager downloads a recommended model with progress and registers it", "[models][download]") {
    HubFixture f;
    f.hub.throttle(kUnetWeights, 32 * 1024, std::chrono::milliseconds(15));
    auto dialog = f.openDialog();
    RecommendedModelsPanel* panel = dialog->recommendedModels();
    const int row = panel->rowOf(kRepo);
    REQUIRE(row >= 0);
    CHECK(panel->table()->rowCount() == 5);
    CHECK(panel->table()->item(row, RecommendedModelsPanel::Service)->text() == QStringLiteral("audioldm"));
    // The size comes from the Hub's listing (the other recommended repos are unknown to it: "—").
    REQUIRE(waitFor([&] {
        return panel->table()->item(row, RecommendedModelsPanel::DownloadSize)->text() ==
               formatBytes(static_cast<double>(pipelineDownloadBytes()));
    }));
    CHECK(panel->table()->item(panel->rowOf(QStringLiteral("cvssp/audioldm-l-full")), RecommendedModelsPanel::DownloadSize)->text() ==
          QStringLiteral("—"));
    CHECK(panel->table()->item(row, RecommendedModelsPanel::Installed)->text() == QStringLiteral("—"));
    QPushButton* button = panel->actionButton(kRepo);
    REQUIRE(button->text() == QStringLiteral("Download"));

    auto* downloader = dialog->findChild<ModelDownloader*>();
    REQUIRE(downloader);
    QVector<DownloadProgress> updates;
    QObject::connect(downloader, &ModelDownloader::downloadProgressed,
                     [&updates](const DownloadProgress& progress) { updates << progress; });
    QSignalSpy registered(dialog.get(), &ModelManagerDialog::modelRegistered);
    button->click();
    CHECK(button->text() == QStringLiteral("Cancel"));
    // Part-way: the bar moves and the status says how much, how fast and how long.
    REQUIRE(waitFor([&] {
        const QProgressBar* bar = panel->progressBar(kRepo);
        return bar && bar->isVisible() && bar->value() > 0 && bar->value() < 1000;
    }, kDownloadTimeoutMs));
    CHECK(panel->statusLabel()->text().contains(QStringLiteral("Downloading %1").arg(kRepo)));
    CHECK(panel->statusLabel()->text().contains(QStringLiteral(" of ")));
    REQUIRE(waitFor([&] { return registered.count() == 1; }, kDownloadTimeoutMs));

    CHECK(registered.front().at(0).toString() == QStringLiteral("audioldm"));
    CHECK(registered.front().at(1).toString() == kRepo);
    CHECK(QSettings().value(QStringLiteral("models/audioldm")).toString() == kRepo);
    CHECK(chosenModelRepo(QStringLiteral("wav2vec2")).isEmpty());
    REQUIRE(updates.size() >= 3);
    CHECK(updates.back().bytesDone == updates.back().bytesTotal);
    CHECK(updates.back().bytesTotal == pipelineDownloadBytes());
    for (int i = 1; i < updates.size(); ++i) CHECK(updates[i].bytesDone >= updates[i - 1].bytesDone);
    REQUIRE(panel->progressBar(kRepo));
    CHECK(panel->progressBar(kRepo)->value() == 1000);
    CHECK(panel->progressBar(QStringLiteral("cvssp/audioldm-m-full")) == nullptr);  // no bar where nothing downloads
    CHECK(panel->statusLabel()->text().contains(QStringLiteral("now feeds audioldm")));
    // The cache scan after the download: the model is installed and in use.
    REQUIRE(waitFor([&] { return button->text() == QStringLiteral("In use"); }));
    CHECK_FALSE(button->isEnabled());
    CHECK(panel->table()->item(row, RecommendedModelsPanel::Installed)->text().contains(QStringLiteral("in use")));
    CHECK(fs::is_directory(hub::resolveModelFolder(kRepo.toStdString(), f.environment()) / "unet"));
}

TEST_CASE("Cancelling a download keeps the partial file, the button says Resume, and the resume completes it",
          "[models][download]") {
    HubFixture f;
    f.hub.throttle(kUnetWeights, 16 * 1024, std::chrono::milliseconds(40));
    auto dialog = f.openDialog();
    RecommendedModelsPanel* panel = dialog->recommendedModels();
    QPushButton* button = panel->actionButton(kRepo);
    QSignalSpy registered(dialog.get(), &ModelManagerDialog::modelRegistered);

    button->click();
    REQUIRE(waitFor([&] { return incompleteBytes(f.cache(), f.repo, kUnetWeights) > 64 * 1024; }, kDownloadTimeoutMs));
    REQUIRE(button->text() == QStringLiteral("Cancel"));
    button->click();
    REQUIRE(waitFor([&] { return panel->statusLabel()->text().contains(QStringLiteral("cancelled")); }, kDownloadTimeoutMs));
    CHECK_FALSE(panel->statusLabel()->property("problem").toBool());
    // The cache scan after the cancel finds the partial download.
    const int row = panel->rowOf(kRepo);
    REQUIRE(waitFor([&] {
        return panel->table()->item(row, RecommendedModelsPanel::Installed)->text().contains(QStringLiteral("partly downloaded"));
    }));
    CHECK(button->text() == QStringLiteral("Resume"));
    CHECK(incompleteBytes(f.cache(), f.repo, kUnetWeights) > 64 * 1024);
    CHECK(registered.isEmpty());
    CHECK(chosenModelRepo(QStringLiteral("audioldm")).isEmpty());

    // After a restart of the app (a new dialog over the same cache) the button still says Resume.
    dialog.reset();
    dialog = f.openDialog();
    panel = dialog->recommendedModels();
    button = panel->actionButton(kRepo);
    REQUIRE(waitFor([&] { return button->text() == QStringLiteral("Resume"); }));
    QSignalSpy registeredAgain(dialog.get(), &ModelManagerDialog::modelRegistered);
    f.hub.resetCounters();
    button->click();
    REQUIRE(waitFor([&] { return registeredAgain.count() == 1; }, kDownloadTimeoutMs));
    CHECK(incompleteBytes(f.cache(), f.repo, kUnetWeights) == 0);
    // The resume asked for the rest of the weights, not the whole file.
    const test::FakeFileStats unet = f.hub.stats(kUnetWeights);
    REQUIRE_FALSE(unet.ranges.empty());
    CHECK(unet.ranges.front().rfind("bytes=", 0) == 0);
    CHECK(chosenModelRepo(QStringLiteral("audioldm")) == kRepo);
}

TEST_CASE("A gated repo's error is shown as text in the Model Manager, not in a message box", "[models][errors]") {
    HubFixture f;
    f.hub.setGated(kRepo.toStdString(), "hf_secret");
    auto dialog = f.openDialog();
    RecommendedModelsPanel* panel = dialog->recommendedModels();
    QPushButton* button = panel->actionButton(kRepo);
    const int row = panel->rowOf(kRepo);
    // The size cannot be asked either: "—", with the reason as its tooltip.
    REQUIRE(waitFor([&] { return !panel->table()->item(row, RecommendedModelsPanel::DownloadSize)->toolTip().isEmpty(); }));
    CHECK(panel->table()->item(row, RecommendedModelsPanel::DownloadSize)->text() == QStringLiteral("—"));

    button->click();
    REQUIRE(waitFor([&] { return panel->statusLabel()->property("problem").toBool(); }, kDownloadTimeoutMs));
    const QString text = panel->statusLabel()->text();
    CHECK(text.contains(kRepo));
    CHECK(text.contains(QStringLiteral("gated")));
    CHECK(text.contains(QStringLiteral("HF_TOKEN")));
    CHECK_FALSE(anyMessageBoxOpen());
    REQUIRE(waitFor([&] { return button->text() == QStringLiteral("Download") && button->isEnabled(); }));
    CHECK(chosenModelRepo(QStringLiteral("audioldm")).isEmpty());
}

TEST_CASE("Offline, sizes stay unknown and a download says it needs the network", "[models][errors]") {
    HubFixture f;
    auto dialog = std::make_unique<ModelManagerDialog>(&f.adapter, nullptr, [&f] {
        hub::HubEnvironment environment = f.environment();
        environment.offline = true;
        return environment;
    });
    dialog->show();
    RecommendedModelsPanel* panel = dialog->recommendedModels();
    panel->actionButton(kRepo)->click();
    REQUIRE(waitFor([&] { return panel->statusLabel()->property("problem").toBool(); }, kDownloadTimeoutMs));
    CHECK(panel->statusLabel()->text().contains(QStringLiteral("Offline")));
    CHECK(panel->statusLabel()->text().contains(kRepo));
    CHECK(panel->table()->item(panel->rowOf(kRepo), RecommendedModelsPanel::DownloadSize)->text() == QStringLiteral("—"));
    CHECK_FALSE(anyMessageBoxOpen());
}

TEST_CASE("A recommended model already in the cache is registered as soon as the Model Manager opens",
          "[models][registration]") {
    HubFixture f;
    hub::HubClient(f.environment(), test::quickRetries()).pull(kRepo.toStdString());  // e.g. by the CLI or diffusers

    auto dialog = std::make_unique<ModelManagerDialog>(&f.adapter, nullptr, f.environmentSource());
    QSignalSpy registered(dialog.get(), &ModelManagerDialog::modelRegistered);
    dialog->show();
    REQUIRE(waitFor([&] { return registered.count() == 1; }));
    CHECK(registered.front().at(1).toString() == kRepo);
    CHECK(chosenModelRepo(QStringLiteral("audioldm")) == kRepo);
    QPushButton* button = dialog->recommendedModels()->actionButton(kRepo);
    CHECK(button->text() == QStringLiteral("In use"));

    // Opening it again registers nothing new: the choice is made.
    dialog->hide();
    dialog->show();
    QTest::qWait(300);
    CHECK(registered.count() == 1);
}

TEST_CASE("On a first start without a model the Generate dock offers the download, which registers AudioLDM",
          "[models][window]") {
    HubFixture f;
    // As the app starts: the services are registered even without a model (a generation then
    // says where the model belongs), so the offer must look at the model, not at the service.
    ModelLocations nothingYet;
    nothingYet.root = modelsFolder().toStdString();
    nothingYet.hubCache = f.environment().cacheDirectory.string();
    addInstalledServices(f.adapter.api(), nothingYet);
    MainWindow window(&f.adapter);
    window.setHubEnvironmentSource(f.environmentSource());
    // What the app does with a chosen repo (app/desktop/desktop_wiring.cpp, through core's lookup
    // of the repo in the HF cache): register the service from the snapshot.
    QObject::connect(&window, &MainWindow::modelRegistered, &window, [&f](const QString& service, const QString& repoId) {
        ModelLocations locations;
        locations.root = modelsFolder().toStdString();
        locations.audioldm = hub::resolveModelFolder(repoId.toStdString(), f.environment()).string();
        locations.wav2vec2 = locations.root + "/wav2vec2";
        f.adapter.api().removeService("audioldm");
        f.adapter.api().removeService("wav2vec2");
        addInstalledServices(f.adapter.api(), locations);
        f.adapter.notifyServicesChanged();
    });
    window.show();
    GenerationForm* form = window.generationForm();
    REQUIRE(form->offersModelDownload());
    CHECK(form->downloadModelButton()->isVisible());
    CHECK(form->modelMissingLabel()->text().contains(kRepo));

    form->downloadModelButton()->click();
    ModelManagerDialog* dialog = window.findChild<ModelManagerDialog*>();
    REQUIRE(dialog);
    CHECK(dialog->isVisible());
    RecommendedModelsPanel* panel = dialog->recommendedModels();
    const auto selected = panel->table()->selectionModel()->selectedRows();
    REQUIRE(selected.size() == 1);
    CHECK(selected.front().row() == panel->rowOf(kRepo));

    panel->actionButton(kRepo)->click();
    REQUIRE(waitFor([&] { return !form->offersModelDownload(); }, kDownloadTimeoutMs));
    CHECK_FALSE(form->downloadModelButton()->isVisible());
    const auto generator = f.api->serviceFor(TaskType::Generation);
    REQUIRE(generator);
    CHECK(generator->info().modelPath == hub::resolveModelFolder(kRepo.toStdString(), f.environment()).string());
}
