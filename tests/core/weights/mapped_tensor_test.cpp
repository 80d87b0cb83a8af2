// Tensors viewing a memory-mapped checkpoint hand their pages back once consumed
// (weights/mapped_tensor.h), and nothing else is touched.
#include "core/test_files.h"
#include "platform/process_memory.h"
#include "weights/mapped_tensor.h"
#include "weights/safetensors.h"

#include <catch2/catch.hpp>
#include <torch/torch.h>

using namespace grym;

TEST_CASE("a consumed mapped tensor leaves the resident set and still reads back unchanged", "[weights][memory]") {
    const test::ScratchFolder scratch;
    const auto path = (scratch.path() / "big.safetensors").string();
    constexpr int64_t kFloats = 8 * 1024 * 1024;  // 32 MiB: far above page rounding and noise
    torch::manual_seed(1);
    const auto original = torch::randn({kFloats});
    saveSafetensors(path, {{"w", original}});

    const auto view = loadSafetensors(path).at("w");
    REQUIRE(torch::equal(view, original));  // every page of the view is now resident
    const uint64_t before = readProcessMemory().residentBytes;
    releaseMappedPages(view);
    const uint64_t after = readProcessMemory().residentBytes;
    INFO("resident before " << before << ", after " << after);
    if (before == 0) {
        WARN("this platform reports no resident size: nothing to measure");
    } else {
        // All but the partial pages at either end of the 32 MiB are gone.
        CHECK(before - after > static_cast<uint64_t>(kFloats * 4) * 9 / 10);
    }
    CHECK(torch::equal(view, original));  // faulted back from the file
}

TEST_CASE("releasing a tensor that is not a mapped view changes nothing", "[weights][memory]") {
    // madvise on heap memory would zero it: such tensors must be left alone.
    torch::manual_seed(2);
    const auto heap = torch::randn({1024 * 1024});
    const auto copy = heap.clone();
    releaseMappedPages(heap);
    releaseMappedPages(torch::Tensor());
    CHECK(torch::equal(heap, copy));
}
