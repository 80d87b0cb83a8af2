#pragma once
// The desktop app's view of the per-user data folder: QStandardPaths' generic data location +
// "/grym-synth", which is the folder core/common/paths.h computes for the CLI and the HTTP API
// ($XDG_DATA_HOME/grym-synth on Linux, %LOCALAPPDATA%\grym-synth on Windows). Settings are not
// kept here but in QSettings (organisation and application "grym-synth").
#include <QString>

namespace grym::ui {

QString userDataDirectory();
QString modelsDirectory();
QString historyDirectory();

}  // namespace grym::ui
