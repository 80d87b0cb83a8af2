#include "desktop_wiring.h"

#include "model_manager_dialog.h"

namespace grym::desktop {

DesktopCore::DesktopCore(ui::CoreAdapter& adapter) : adapter_(adapter) { useModelsFolder(ui::modelsFolder()); }

DesktopCore::~DesktopCore() = default;

void DesktopCore::useModelsFolder(const QString& folder) {
    // The model services join here as they land in core.
    (void)folder;
}

}  // namespace grym::desktop
