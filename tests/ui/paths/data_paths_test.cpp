#include "common/paths.h"
#include "data_paths.h"

#include <catch2/catch.hpp>

#include <QByteArray>
#include <QDir>
#include <QString>

namespace {

// Sets (or unsets) one environment variable for the lifetime of the guard, then restores it.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const QByteArray* value) : name_(name), had_(qEnvironmentVariableIsSet(name)), old_(qgetenv(name)) {
        if (value)
            qputenv(name, *value);
        else
            qunsetenv(name);
    }
    ~ScopedEnv() {
        if (had_)
            qputenv(name_, old_);
        else
            qunsetenv(name_);
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* name_;
    bool had_;
    QByteArray old_;
};

QString fromCore(const std::filesystem::path& path) {
    return QDir::cleanPath(QString::fromStdString(path.generic_string()));
}

}  // namespace

TEST_CASE("the desktop app and the core agree on the data folders") {
    const QByteArray home = QDir::tempPath().toUtf8() + "/grym home";
    ScopedEnv homeGuard("HOME", &home);
    SECTION("with XDG_DATA_HOME") {
        const QByteArray xdg = QDir::tempPath().toUtf8() + "/grym xdg data";
        ScopedEnv xdgGuard("XDG_DATA_HOME", &xdg);
        CHECK(grym::ui::userDataDirectory() == QString::fromUtf8(xdg) + "/grym-synth");
        CHECK(grym::ui::userDataDirectory() == fromCore(grym::userDataDirectory()));
        CHECK(grym::ui::modelsDirectory() == fromCore(grym::modelsDirectory()));
        CHECK(grym::ui::historyDirectory() == fromCore(grym::historyDirectory()));
    }
    SECTION("without XDG_DATA_HOME") {
        ScopedEnv xdgGuard("XDG_DATA_HOME", nullptr);
        CHECK(grym::ui::userDataDirectory() == QString::fromUtf8(home) + "/.local/share/grym-synth");
        CHECK(grym::ui::userDataDirectory() == fromCore(grym::userDataDirectory()));
        CHECK(grym::ui::modelsDirectory() == fromCore(grym::modelsDirectory()));
    }
}
