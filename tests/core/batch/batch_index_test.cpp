// index.jsonl: lines appended by several processes at once never interleave mid-line, and the
// finished clips are read back from it.
#include "batch/batch_index.h"

#include "core/test_files.h"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <map>
#include <sstream>

using namespace grym::batch;

TEST_CASE("index lines appended by several processes at once stay whole", "[batch]") {
    grym::test::ScratchFolder scratch;
    const auto path = scratch.path() / "index.jsonl";
    constexpr int kProcesses = 4, kLines = 300;
    // Long lines (several KiB) make a torn write likely if appends were not single O_APPEND writes.
    const std::string padding(3000, 'x');
    std::vector<pid_t> children;
    for (int p = 0; p < kProcesses; ++p) {
        const pid_t child = fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            int status = 0;
            try {
                BatchIndex index(path);
                for (int i = 0; i < kLines; ++i)
                    index.append({{"status", "done"}, {"file", std::to_string(p) + "-" + std::to_string(i)}, {"pad", padding}});
            } catch (...) {
                status = 1;
            }
            _exit(status);
        }
        children.push_back(child);
    }
    for (pid_t child : children) {
        int status = 0;
        waitpid(child, &status, 0);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
    }
    std::istringstream lines(grym::test::readWholeFile(path));
    std::map<std::string, int> seen;
    int count = 0;
    for (std::string line; std::getline(lines, line); ++count) {
        const auto record = nlohmann::json::parse(line, nullptr, false);
        REQUIRE(record.is_object());
        CHECK(record["pad"] == padding);
        ++seen[record["file"].get<std::string>()];
    }
    CHECK(count == kProcesses * kLines);
    CHECK(seen.size() == static_cast<size_t>(kProcesses * kLines));
    CHECK(BatchIndex::finishedFiles(path).size() == static_cast<size_t>(kProcesses * kLines));
}

TEST_CASE("the finished files of an index are its done records; other lines are passed over", "[batch]") {
    grym::test::ScratchFolder scratch;
    const auto path = scratch.path() / "index.jsonl";
    grym::test::writeWholeFile(path, "{\"status\": \"done\", \"file\": \"a.flac\"}\n"
                                     "{\"status\": \"failed\", \"file\": \"b.flac\", \"error\": \"x\"}\n"
                                     "not json\n"
                                     "{\"status\": \"done\", \"file\": \"c.fl");
    CHECK(BatchIndex::finishedFiles(path) == std::set<std::string>{"a.flac"});
    CHECK(BatchIndex::finishedFiles(scratch.path() / "absent.jsonl").empty());
}
