#include "data_paths.h"

#include <QDir>
#include <QStandardPaths>

namespace grym::ui {

// GenericDataLocation, not AppLocalDataLocation: the latter appends organisation and application
// names (".../grym-synth/grym-synth") and would part ways with the core's folder.
QString userDataDirectory() {
    return QDir(QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation)).filePath(QStringLiteral("grym-synth"));
}

QString modelsDirectory() { return QDir(userDataDirectory()).filePath(QStringLiteral("models")); }

QString historyDirectory() { return QDir(userDataDirectory()).filePath(QStringLiteral("history")); }

}  // namespace grym::ui
