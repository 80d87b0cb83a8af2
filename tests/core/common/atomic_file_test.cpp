#include "common/atomic_file.h"

#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace grym;
namespace fs = std::filesystem;

namespace {

fs::path freshFolder(const std::string& name) {
    const fs::path folder = fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
    fs::remove_all(folder);
    fs::create_directories(folder);
    return folder;
}

std::string contentOf(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

size_t entriesIn(const fs::path& folder) {
    size_t n = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(folder)) ++n;
    return n;
}

}  // namespace

TEST_CASE("an atomic write replaces the file whole and keeps its permissions", "[atomic]") {
    const fs::path folder = freshFolder("grym-atomic");
    const fs::path file = folder / "notes.json";
    writeFileAtomically(file, "first");
    CHECK(contentOf(file) == "first");
    ::chmod(file.c_str(), 0640);
    {
        AtomicFile replacement(file);
        replacement.write("sec");
        // Until the commit, a reader still finds the old content whole.
        CHECK(contentOf(file) == "first");
        replacement.write(std::string_view("ond"));
        replacement.commit();
    }
    CHECK(contentOf(file) == "second");
    struct stat info {};
    REQUIRE(::stat(file.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0640);
    CHECK(entriesIn(folder) == 1);
    fs::remove_all(folder);
}

TEST_CASE("an atomic write abandoned or failing leaves the old file and no temporary file", "[atomic]") {
    const fs::path folder = freshFolder("grym-atomic-fail");
    const fs::path file = folder / "clip.wav";
    writeFileAtomically(file, "old bytes");
    {
        AtomicFile abandoned(file);
        abandoned.write("half of the new");
    }  // never committed: an exception or a cancel on the way
    CHECK(contentOf(file) == "old bytes");
    CHECK(entriesIn(folder) == 1);

    // The disk fills up: every byte past 4 KB is refused (RLIMIT_FSIZE stands in for ENOSPC).
    rlimit saved{};
    ::getrlimit(RLIMIT_FSIZE, &saved);
    auto* previous = std::signal(SIGXFSZ, SIG_IGN);
    rlimit small = saved;
    small.rlim_cur = 4096;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
    std::string error;
    int code = 0;
    try {
        writeFileAtomically(file, std::string(100000, 'x'));
    } catch (const FileWriteError& e) {
        error = e.what();
        code = e.errorCode();
    }
    ::setrlimit(RLIMIT_FSIZE, &saved);
    std::signal(SIGXFSZ, previous);
    CHECK_THAT(error, Catch::Contains(file.string()) && Catch::Contains("File too large"));
    CHECK(code == EFBIG);
    CHECK(contentOf(file) == "old bytes");
    CHECK(entriesIn(folder) == 1);

    CHECK_THROWS_WITH(writeFileAtomically(folder / "missing" / "a.json", "{}"),
                      Catch::Contains("a.json") && Catch::Contains("does not exist"));
    CHECK_THROWS_WITH(writeFileAtomically(folder, "{}"), Catch::Contains("is a folder"));
    fs::remove_all(folder);
}
