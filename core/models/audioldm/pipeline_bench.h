#pragma once
// The "audioldm" benchmark: per-component and end-to-end timings of an AudioLDM folder (usually
// a full-size random-weight one from make-random-model), as JSON.
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>
#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <string>
#include <vector>

namespace grym::audioldm {

struct AudioLdmBenchOptions {
    std::string modelDir;
    std::string referenceTimingPath;       // timing.json with reference_seconds_openblas (optional)
    std::vector<int64_t> endToEndSteps{10};
    double seconds = 5.12;
    int repeats = 2;                       // best of N for the component timings
    int threads = 0;                       // 0: libtorch's default
    std::string quantization = "none";     // none | int8 | int4 (weight-only, UNet and VAE)
    c10::Device device = c10::kCPU;        // cuda: timings wait for the GPU; CUDA memory is reported
    c10::ScalarType dtype = c10::kFloat;   // float16 / bfloat16 need cuda
};

nlohmann::json runAudioLdmBenchmark(const AudioLdmBenchOptions& options,
                                    const std::function<void(const std::string&)>& log = {});

}  // namespace grym::audioldm
