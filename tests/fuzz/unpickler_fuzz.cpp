// libFuzzer target for the restricted unpickler and the PyTorch checkpoint reader: any byte
// string must either read (and every tensor's bytes must then lie inside the input) or raise
// grym::ModelError. Inputs starting with a zip header go through the whole reader (zip
// directory, data.pkl, bounds checks); others are taken as a data.pkl on their own.
// Built with -DGRYM_FUZZ=ON and clang; run e.g.
// `build/tests/fuzz/fuzz_unpickler -max_total_time=60 tests/fuzz/corpus_pickle`.
#include "common/error.h"
#include "weights/pytorch_checkpoint.h"
#include "weights/restricted_unpickler.h"
#include "weights/zip_archive.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    // Small limits keep each run fast; the limit checks themselves are what is under test.
    grym::UnpicklerLimits limits;
    limits.maxValues = 100'000;
    limits.maxContainerItems = 400'000;
    limits.maxStack = 100'000;
    limits.maxMemo = 100'000;
    try {
        if (grym::looksLikeZip(data, size)) {
            const grym::PytorchCheckpoint checkpoint(std::vector<uint8_t>(data, data + size), "fuzz.pt", limits);
            for (const auto& [key, storage] : checkpoint.storages()) {
                const grym::ZipBytes bytes = checkpoint.storageBytes(key);
                if (bytes.offset + bytes.size > size) std::abort();  // a range the checks let through
                if (bytes.size > 0) (void)*(volatile const uint8_t*)(bytes.data + bytes.size - 1);
            }
        } else {
            (void)grym::unpickleStateDict(data, size, "fuzz.pkl", limits);
        }
    } catch (const grym::ModelError&) {
    }
    return 0;
}
