// The runner for tests/ui/: a QApplication on the offscreen platform (unless the environment
// names another), with settings kept in a temporary folder so tests never touch the user's. The
// Model Manager's default Hugging Face environment is an empty cache there, offline: tests that
// download give it a loopback Hub (tests/support/fake_hub) instead.
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
    qputenv("HF_HOME", (settingsDir.path() + QStringLiteral("/huggingface")).toUtf8());
    qputenv("HF_HUB_OFFLINE", "1");
    for (const char* name : {"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_TOKEN", "HF_TOKEN_PATH", "HF_ENDPOINT"}) qunsetenv(name);
    int qtArgc = 1;
    QApplication app(qtArgc, argv);
    QApplication::setOrganizationName(QStringLiteral("grym-synth-tests"));
    QApplication::setApplicationName(QStringLiteral("grym-synth-tests"));
    QSettings::setDefaultFormat(QSettings::IniFormat);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, settingsDir.path());
    return Catch::Session().run(argc, argv);
}
