// libFuzzer target for case.json, the description of a golden case (tests/data/golden/*): any
// bytes as case.json beside a real io.safetensors must open as a case (component and
// tolerances read) or raise grym::ModelError naming the file; any other exception escapes and
// is reported.
// Run: `build-fuzz/tests/fuzz/fuzz_golden_case -max_total_time=60 tests/fuzz/corpus_case`.
#include "common/error.h"
#include "fuzz_scratch.h"
#include "golden/golden_case.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const grym::fuzz::ScratchFolder scratch;
    static const bool copied = [] {
        std::filesystem::copy_file(GRYM_FUZZ_DATA_DIR "/golden/scheduler_ddim/io.safetensors",
                                   scratch.path() / "io.safetensors");
        return true;
    }();
    (void)copied;
    scratch.write("case.json", data, size);
    try {
        const grym::GoldenCase golden(scratch.path().string());
        (void)golden.component();
        if (!(golden.toleranceRelativeL2() >= 0) || !(golden.toleranceMaxAbs() >= 0)) std::abort();
    } catch (const grym::ModelError&) {
    }
    return 0;
}
