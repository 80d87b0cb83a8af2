// The runner for tests/ui/: a QApplication on the offscreen platform (unless the environment
// names another), with settings kept in a temporary folder so tests never touch the user's.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <QApplication>
#include <QSettings>
#include <QTemporaryDir>

int main(int argc, char** argv) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    QTemporaryDir settingsDir;
    qputenv("XDG_CONFIG_HOME", settingsDir.path().toUtf8());
    qputenv("XDG_DATA_HOME", (settingsDir.path() + QStringLiteral("/data")).toUtf8());
    int qtArgc = 1;
    QApplication app(qtArgc, argv);
    QApplication::setOrganizationName(QStringLiteral("grym-synth-tests"));
    QApplication::setApplicationName(QStringLiteral("grym-synth-tests"));
    QSettings::setDefaultFormat(QSettings::IniFormat);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, settingsDir.path());
    return Catch::Session().run(argc, argv);
}
