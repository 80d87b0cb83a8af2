#pragma once
// Where the desktop app's models live: the "models/folder" setting (changed in Tools ▸ Model
// Manager), or by default the folder the CLI and the HTTP API use; and the checks the app makes
// on a model folder before pointing a service at it.
#include <QString>

namespace grym::ui {

// The models folder from the settings, or the default under the user's app data directory.
QString modelsFolder();
void setModelsFolder(const QString& folder);
QString defaultModelsFolder();
// Empty when `folder` looks like a usable model (a config JSON and safetensors weights),
// otherwise what is wrong and what to do.
QString modelFolderProblem(const QString& folder);
qint64 folderSizeOnDisk(const QString& folder);

}  // namespace grym::ui
