// The operating-system layer (core/platform/) on this machine: atomic writes, process and system
// memory, run-time library loading.
#include "core/test_files.h"
#include "platform/atomic_file.h"
#include "platform/process_memory.h"
#include "platform/shared_library.h"

#include <catch2/catch.hpp>


#include <fstream>
#include <string>
#include <system_error>
#include <vector>

using namespace grym;
namespace fs = std::filesystem;

TEST_CASE("an atomic write replaces the file, keeps its permissions and leaves no temporary file", "[platform]") {
    const test::ScratchFolder scratch;
    const fs::path target = scratch.path() / "ref";
    const std::string first = "first content";
    writeFileAtomically(target, first.data(), first.size());
    CHECK(test::readWholeFile(target) == first);

    fs::permissions(target, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
    const std::string second = "second";
    writeFileAtomically(target, second.data(), second.size());
    CHECK(test::readWholeFile(target) == second);
    CHECK((fs::status(target).permissions() & fs::perms::all) ==
          (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));

    std::vector<fs::path> entries;
    for (const auto& entry : fs::directory_iterator(scratch.path())) entries.push_back(entry.path());
    CHECK(entries == std::vector<fs::path>{target});
}

TEST_CASE("an atomic write into a missing folder says which step failed", "[platform]") {
    const test::ScratchFolder scratch;
    const fs::path target = scratch.path() / "absent" / "file";
    try {
        writeFileAtomically(target, "x", 1);
        FAIL("nothing was thrown");
    } catch (const std::system_error& e) {
        CHECK_THAT(e.what(), Catch::Contains("cannot create a file in") && Catch::Contains("absent"));
        CHECK(e.code() == std::errc::no_such_file_or_directory);
    }
    CHECK_FALSE(fs::exists(scratch.path() / "absent"));
}

TEST_CASE("process and system memory are read from the operating system", "[platform]") {
    const std::vector<char> touched(64 << 20, 1);  // 64 MiB resident, at least for a moment
    const ProcessMemory process = readProcessMemory();
    CHECK(process.residentBytes > (64u << 20));
    CHECK(process.peakResidentBytes >= process.residentBytes);
    CHECK(peakResidentBytes() >= process.residentBytes);
    const SystemMemory system = readSystemMemory();
    CHECK(system.totalBytes > process.residentBytes);
    CHECK(system.availableBytes > 0);
    CHECK(system.availableBytes <= system.totalBytes);
    CHECK(touched.back() == 1);
}

TEST_CASE("a shared library is opened by the first name that loads, and its functions are found", "[platform]") {
    CHECK(SharedLibrary::openFirst({"libgrym-no-such-library.so"}) == nullptr);
    const auto libc = SharedLibrary::openFirst({"libgrym-no-such-library.so", "libc.so.6"});
    REQUIRE(libc);
    using Strlen = size_t (*)(const char*);
    const auto length = reinterpret_cast<Strlen>(libc->symbol("strlen"));
    REQUIRE(length);
    CHECK(length("grym") == 4);
    CHECK(libc->symbol("grym_no_such_function") == nullptr);
}

TEST_CASE("a shared library already in the process is found, and one that is not is never loaded", "[platform]") {
    const auto libc = SharedLibrary::findLoaded({"libgrym-no-such-library.so", "libc.so.6"});
    REQUIRE(libc);
    CHECK(libc->symbol("strlen") != nullptr);
    CHECK(SharedLibrary::findLoaded({"libgrym-no-such-library.so"}) == nullptr);
    // A library that exists but this process has not loaded stays unloaded.
    auto mapped = [](const std::string& name) {
        std::ifstream maps("/proc/self/maps");
        std::string line;
        while (std::getline(maps, line))
            if (line.find("/" + name) != std::string::npos) return true;
        return false;
    };
    for (const std::string name : {"libbz2.so.1.0", "libexpat.so.1", "libpopt.so.0", "libgmp.so.10"}) {
        if (mapped(name)) continue;
        CHECK(SharedLibrary::findLoaded({name}) == nullptr);
        CHECK_FALSE(mapped(name));
    }
}

TEST_CASE("a resident-peak probe sees memory touched and freed inside its stretch, not before it", "[platform][memory]") {
    constexpr size_t kBytes = 64 * 1024 * 1024;
    auto touch = [] {
        std::vector<char> block(kBytes, 1);  // written, so every page becomes resident
        return static_cast<int>(block[kBytes / 2]);
    };
    CHECK(touch() == 1);  // a larger stretch before the probe must not count
    const ResidentPeakProbe probe;
    INFO("method: " << probe.method());
    CHECK(probe.peakIncreaseBytes() < kBytes / 4);
    CHECK(touch() == 1);
    CHECK(probe.peakIncreaseBytes() > kBytes * 9 / 10);
}
