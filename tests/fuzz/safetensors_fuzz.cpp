// libFuzzer target for the safetensors parser: any byte string must either parse (and every
// tensor must then be readable) or raise grym::ModelError. Built with -DGRYM_FUZZ=ON and clang;
// run e.g. `build/tests/fuzz/fuzz_safetensors -max_total_time=60 tests/fuzz/corpus`.
#include "common/error.h"
#include "weights/safetensors.h"

#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        grym::SafetensorsFile file(std::vector<uint8_t>(data, data + size), "fuzz.safetensors");
        for (const auto& info : file.tensors()) {
            const torch::Tensor t = file.tensor(info.name);
            if (t.numel() > 0) (void)t.view(-1)[t.numel() - 1].item();
        }
    } catch (const grym::ModelError&) {
    }
    return 0;
}
