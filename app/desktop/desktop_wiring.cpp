#include "desktop_wiring.h"

#include "api/installed_services.h"
#include "model_choice.h"
#include "models_folder.h"

#include <algorithm>

namespace grym::desktop {

DesktopCore::DesktopCore(ui::CoreAdapter& adapter) : adapter_(adapter) { useModelsFolder(ui::modelsFolder()); }

DesktopCore::~DesktopCore() = default;

void DesktopCore::reload() { useModelsFolder(ui::modelsFolder()); }

void DesktopCore::useModelsFolder(const QString& folder) {
    AudioApi& api = adapter_.api();
    for (const std::string& id : installedIds_) api.removeService(id);
    installedIds_.clear();
    std::vector<std::string> before;
    for (const auto& service : api.allServices()) before.push_back(service->id());

    report_.clear();
    ModelLocations locations;
    locations.root = folder.toStdString();
    // A repo id is looked up in the Hugging Face cache by core; empty keeps ROOT/<service>.
    locations.audioldm = ui::chosenModelRepo(QStringLiteral("audioldm")).toStdString();
    locations.wav2vec2 = ui::chosenModelRepo(QStringLiteral("wav2vec2")).toStdString();
    try {
        for (const std::string& line : addInstalledServices(api, locations)) report_ << QString::fromStdString(line);
    } catch (const std::exception& e) {
        report_ << QObject::tr("models in %1: %2").arg(folder, QString::fromStdString(e.what()));
    }
    for (const auto& service : api.allServices())
        if (std::find(before.begin(), before.end(), service->id()) == before.end()) installedIds_.push_back(service->id());
    adapter_.notifyServicesChanged();
}

}  // namespace grym::desktop
