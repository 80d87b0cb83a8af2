#pragma once
// Connects the desktop app's adapter to the real core: audio file I/O, the model services found
// in the models folder, and the memory monitor feeding the live graphs.
#include "core_adapter.h"

namespace grym::desktop {

class DesktopCore {
public:
    explicit DesktopCore(ui::CoreAdapter& adapter);
    ~DesktopCore();
    DesktopCore(const DesktopCore&) = delete;
    DesktopCore& operator=(const DesktopCore&) = delete;

    // Called when the user picks another models folder in the Model Manager.
    void useModelsFolder(const QString& folder);

private:
    ui::CoreAdapter& adapter_;
};

}  // namespace grym::desktop
