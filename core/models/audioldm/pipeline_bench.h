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
    std::string quantization = "none";     // none | int8 | int4, applied while loading (LoadOptions::precision)
    c10::Device device = c10::kCPU;        // cuda: timings wait for the GPU; CUDA memory is reported
    c10::ScalarType dtype = c10::kFloat;   // float16 / bfloat16 need cuda
    // `bench peak` JSON whose peak_gflops the roofline columns are read against; empty: a short
    // peak measurement (models/compute_peak.h) runs first, on the CPU only.
    std::string peakPath;
    // With a quantisation level: also generate once with a float32 copy of the pipeline (loaded
    // after the timings, so it does not enter their memory figures) and report the distance.
    bool compareToFloat = false;
};

struct GenerationResult;

// How far one generation lies from another of the same request (a quantised pipeline's from the
// float32 one's): relative L2 (‖a − b‖ / ‖b‖) of the final latents, of the VAE's mel and of the
// audio, and the log-mel spectral distance of the audio: the root mean square difference of the
// two natural-log mel spectrograms (mel.h's, the one the VAE was trained on), in nepers.
struct GenerationDistance {
    double latents = 0.0;   // 0 when either result kept no step latents
    double mel = 0.0;
    double audio = 0.0;
    double logMel = 0.0;
};
GenerationDistance generationDistance(const GenerationResult& test, const GenerationResult& reference);
nlohmann::json toJson(const GenerationDistance& distance);

// Per component: seconds, processor seconds, the FLOPs of one call (models/flop_count.h), the
// achieved GFLOP/s and its percentage of the peak; also the same as a "roofline" table.
nlohmann::json runAudioLdmBenchmark(const AudioLdmBenchOptions& options,
                                    const std::function<void(const std::string&)>& log = {});

}  // namespace grym::audioldm
