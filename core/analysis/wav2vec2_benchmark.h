#pragma once
// Speed of a wav2vec2 forward pass on this machine, from a full-size config with random
// weights (clearly labelled as such: the figures are about arithmetic, not accuracy).
#include "models/wav2vec2/model.h"

#include <nlohmann/json_fwd.hpp>

#include <string>

namespace grym {

struct Wav2vec2BenchmarkOptions {
    std::string configDir;          // holds config.json (e.g. full_configs/wav2vec2-base-960h)
    double audioSeconds = 10.0;     // length of the (random) input
    int repeats = 3;                // timed runs after one warm-up
    LoadOptions runtime;
    std::string referenceTimingFile; // timing.json with reference_seconds_openblas; optional
    // `bench peak` JSON for percent_of_peak; empty: a short peak measurement first (CPU only).
    std::string peakPath;
};

// {model, weights:"random ...", device, dtype, precision, threads, parameters, parameter_bytes,
//  audio_seconds, build_seconds,
//  runs_seconds[], best_seconds, median_seconds, real_time_factor, flops (of one forward,
//  models/flop_count.h), gflops (at the best run), percent_of_peak, peak{...}, reference{...}?,
//  relative_l2_vs_float32? (int8: the last hidden state against the same weights in float32)}
nlohmann::json runWav2vec2Benchmark(const Wav2vec2BenchmarkOptions& options);

}  // namespace grym
