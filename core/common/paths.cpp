#include "common/paths.h"

#include "common/error.h"

#include <cstdlib>

namespace fs = std::filesystem;

namespace grym {

namespace {

constexpr const char* kAppFolder = "grym-synth";

#ifdef _WIN32
// _wgetenv keeps non-ASCII user names intact, which getenv's ANSI code page would not.
fs::path environmentPath(const wchar_t* name) {
    const wchar_t* value = _wgetenv(name);
    return value ? fs::path(value) : fs::path();
}

fs::path platformDataRoot() {
    fs::path localAppData = environmentPath(L"LOCALAPPDATA");
    if (localAppData.is_absolute()) return localAppData;
    fs::path profile = environmentPath(L"USERPROFILE");
    if (profile.is_absolute()) return profile / "AppData" / "Local";
    throw Error("cannot find the per-user data folder: LOCALAPPDATA and USERPROFILE are both unset");
}
#else
fs::path environmentPath(const char* name) {
    const char* value = std::getenv(name);
    return value ? fs::path(value) : fs::path();
}

fs::path platformDataRoot() {
    // The XDG Base Directory spec says relative values are invalid and must be ignored.
    fs::path xdgDataHome = environmentPath("XDG_DATA_HOME");
    if (xdgDataHome.is_absolute()) return xdgDataHome;
    fs::path home = environmentPath("HOME");
    if (home.is_absolute()) return home / ".local" / "share";
    throw Error("cannot find the per-user data folder: XDG_DATA_HOME and HOME are both unset or relative");
}
#endif

}  // namespace

fs::path userDataDirectory() { return platformDataRoot() / kAppFolder; }

fs::path modelsDirectory() { return userDataDirectory() / "models"; }

fs::path historyDirectory() { return userDataDirectory() / "history"; }

}  // namespace grym
