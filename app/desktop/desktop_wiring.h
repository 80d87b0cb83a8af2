#pragma once
// Connects the desktop app's adapter to the real core: the model services installed in the
// models folder, or the Hugging Face repos the Model Manager chose for them (ui/model_choice.h),
// are registered on the adapter's AudioApi (the same one the local HTTP API serves).
#include "core_adapter.h"

#include <QStringList>

#include <string>
#include <vector>

namespace grym::desktop {

class DesktopCore {
public:
    explicit DesktopCore(ui::CoreAdapter& adapter);
    ~DesktopCore();
    DesktopCore(const DesktopCore&) = delete;
    DesktopCore& operator=(const DesktopCore&) = delete;

    // Registers the services found under `folder`, or the repos chosen for them (replacing
    // those registered before). Called at start and when the user picks another models folder.
    void useModelsFolder(const QString& folder);
    // Registers the services again from the settings: after the Model Manager chose a repo.
    void reload();
    // One line per service: what was registered, or why not (models missing, ...).
    const QStringList& report() const { return report_; }

private:
    ui::CoreAdapter& adapter_;
    std::vector<std::string> installedIds_;
    QStringList report_;
};

}  // namespace grym::desktop
