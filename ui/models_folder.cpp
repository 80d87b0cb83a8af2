#include "models_folder.h"

#include "data_paths.h"

#include <QDir>
#include <QDirIterator>
#include <QFileInfo>
#include <QObject>
#include <QSettings>

namespace grym::ui {

// The same folder the CLI and the HTTP API use (see data_paths.h).
QString defaultModelsFolder() { return modelsDirectory(); }

QString modelsFolder() {
    return QSettings().value(QStringLiteral("models/folder"), defaultModelsFolder()).toString();
}

void setModelsFolder(const QString& folder) { QSettings().setValue(QStringLiteral("models/folder"), folder); }

QString modelFolderProblem(const QString& folder) {
    const QFileInfo info(folder);
    if (!info.exists())
        return QObject::tr("%1 does not exist: download a recommended model below, or create it and copy a model (config JSON and .safetensors or PyTorch .bin weights) into it.").arg(folder);
    if (!info.isDir()) return QObject::tr("%1 is a file, not a folder.").arg(folder);
    if (!info.isReadable()) return QObject::tr("%1 cannot be read: check its permissions.").arg(folder);
    QDirIterator configs(folder, {QStringLiteral("*.json")}, QDir::Files, QDirIterator::Subdirectories);
    if (!configs.hasNext()) return QObject::tr("%1 has no config JSON: copy the whole model folder, not only the weights.").arg(folder);
    // The weight formats the core's loaders read: safetensors, or PyTorch checkpoints.
    QDirIterator weights(folder, {QStringLiteral("*.safetensors"), QStringLiteral("*.bin"), QStringLiteral("*.pt"), QStringLiteral("*.pth")},
                         QDir::Files, QDirIterator::Subdirectories);
    if (!weights.hasNext())
        return QObject::tr("%1 has no weights (.safetensors or PyTorch .bin): copy the whole model folder here.").arg(folder);
    return {};
}

qint64 folderSizeOnDisk(const QString& folder) {
    qint64 total = 0;
    QDirIterator it(folder, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        it.next();
        total += it.fileInfo().size();
    }
    return total;
}

}  // namespace grym::ui
