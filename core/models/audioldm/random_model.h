#pragma once
// Full-size AudioLDM folders with random weights, for benchmarks and load tests on machines
// without the real checkpoint: the configs and every tensor's name, shape and dtype come from a
// full_configs folder (its manifest.json); values are seeded random numbers scaled so that
// activations stay finite. Such folders are marked random (model_index.json and every
// checkpoint's metadata) and the pipeline warns when it loads one.
#include <cstdint>
#include <functional>
#include <string>

namespace grym::audioldm {

struct RandomModelSummary {
    uint64_t parameters = 0;
    uint64_t bytes = 0;
};

// Writes OUT_DIR/{model_index.json, scheduler/, tokenizer/, text_encoder/, unet/, vae/, vocoder/}.
// `tokenizerDir` empty: FULL_CONFIG_DIR/tokenizer, else FULL_CONFIG_DIR/../../tokenizer (the
// golden layout). Throws ModelError naming what is missing.
RandomModelSummary writeRandomAudioLdmModel(const std::string& fullConfigDir, const std::string& outDir,
                                            const std::string& tokenizerDir = {}, uint64_t seed = 0,
                                            const std::function<void(const std::string&)>& log = {});

}  // namespace grym::audioldm
