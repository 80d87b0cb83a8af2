#include "model_choice.h"

#include <QSettings>

namespace grym::ui {

namespace {
QString settingsKey(const QString& service) { return QStringLiteral("models/") + service; }
}  // namespace

QString chosenModelRepo(const QString& service) { return QSettings().value(settingsKey(service)).toString(); }

void setChosenModelRepo(const QString& service, const QString& repoId) {
    QSettings().setValue(settingsKey(service), repoId);
}

}  // namespace grym::ui
