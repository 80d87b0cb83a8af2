// The Hub cache's file helpers and the platform files it uses: the glob matcher against the C
// library's fnmatch (the POSIX reference it replaces), the disk-full test and opening files by path.
#include "core/test_files.h"
#include "hub/cache_files.h"
#include "platform/file_lock.h"

#include <catch2/catch.hpp>

#include <fnmatch.h>

#include <cerrno>
#include <memory>

using namespace grym;

TEST_CASE("globs match as fnmatch without flags does: * crosses folders, ? is one character, [...] a set",
          "[hub][platform]") {
    const std::vector<std::string> patterns = {
        "*",         "*.json",     "unet/*",   "unet/*.safetensors", "*/config.json", "?net/*", "[uv]*",
        "[!u]*",     "[a-c]*.bin", "*[0-9]*",  "[]]*",               "[!]]*",         "[",      "a[",
        "*.*.json",  "**/x",       "vae/??.*", "text_encoder/*model*", "",            "*a*b*c*", "[z-a]*"};
    const std::vector<std::string> paths = {
        "model_index.json", "unet/config.json", "unet/diffusion_pytorch_model.safetensors", "vae/ab.bin",
        "text_encoder/model.safetensors", "a.b.json", "]x", "[", "a[", "abc", "xaybzc", "0", "", "x", "dir/x"};
    for (const auto& pattern : patterns)
        for (const auto& path : paths) {
            INFO("pattern '" << pattern << "', path '" << path << "'");
            CHECK(hub::globMatches(pattern, path) == (::fnmatch(pattern.c_str(), path.c_str(), 0) == 0));
        }
}

TEST_CASE("disk-full errors are recognised and files open by path", "[hub][platform]") {
    CHECK(isDiskFullError(ENOSPC));
    CHECK_FALSE(isDiskFullError(EACCES));
    const test::ScratchFolder scratch;
    const auto path = scratch.path() / "ä file.bin";
    {
        std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(openFile(path, "wb"), &std::fclose);
        REQUIRE(file);
        std::fputs("bytes", file.get());
    }
    CHECK(test::readWholeFile(path) == "bytes");
    CHECK(openFile(scratch.path() / "absent" / "x", "rb") == nullptr);
}
