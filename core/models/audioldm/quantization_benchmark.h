#pragma once
// The memory and speed of the AudioLDM UNet at one weight quantisation level, measured in the
// calling process: load, quantise, parameter bytes and resident memory, forward time and the
// output's distance from float. Run each level in a fresh process (`grym-synth-cli bench
// quantization`) so memory freed by one level does not hide in the next one's figures.
#include "models/audioldm/weight_quantization.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>

namespace grym::audioldm {

struct UNetQuantizationBenchmarkOptions {
    std::string unetDir;  // a diffusers unet/ folder (config.json + weights)
    WeightQuantization level = WeightQuantization::None;
    int64_t batch = 2;           // classifier-free guidance runs the UNet on two entries
    int64_t latentFrames = 128;  // 5.12 s: 512 mel frames / the VAE factor 4
    int64_t latentWidth = 16;    // 64 mel bins / 4
    int forwardRepeats = 1;      // timed forwards after one untimed warm-up; 0 skips forwards
    bool compareToFloat = true;  // run the float model first and report the relative L2 error
};

// JSON: level, parameters, bytes (before/after, quantised layers), resident memory (before
// loading, after loading, after quantising), load/quantise seconds, forward seconds, error.
nlohmann::json benchmarkUNetQuantization(const UNetQuantizationBenchmarkOptions& options);

}  // namespace grym::audioldm
