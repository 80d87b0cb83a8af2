// libFuzzer target for the checkpoint config parsers of every model type (VAE, UNet, vocoder,
// CLAP text encoder, the DDIM and DPM-Solver++ schedulers, wav2vec2 and its preprocessor). The
// first byte picks the parser, the rest is the config.json text: anything that parses as JSON
// must give a config or a grym::ModelError naming the field; any other exception is a bug (a
// message the user cannot act on), so it escapes and the fuzzer reports it.
// Run: `build-fuzz/tests/fuzz/fuzz_model_config -max_total_time=60 tests/fuzz/corpus_config`.
#include "common/error.h"
#include "models/audioldm/clap_text.h"
#include "models/audioldm/scheduler_base.h"
#include "models/audioldm/unet.h"
#include "models/audioldm/vae.h"
#include "models/audioldm/vocoder.h"
#include "models/wav2vec2/config.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(data + 1, data + size);
    } catch (const nlohmann::json::exception&) {
        return 0;  // the loaders report this (JsonReader::parseFile) before any parser runs
    }
    const std::string source = "config.json";
    try {
        switch (data[0] % 9) {
            case 0: (void)grym::audioldm::VaeConfig::fromJson(j, source); break;
            case 1: (void)grym::audioldm::UNetConfig::fromJson(j, source); break;
            case 2: (void)grym::audioldm::VocoderConfig::fromJson(j, source); break;
            case 3: (void)grym::audioldm::ClapTextConfig::fromJson(j, source); break;
            case 4: (void)grym::audioldm::parseNoiseScheduleConfig(j, source); break;
            case 5: (void)grym::audioldm::parseDdimConfig(j, source); break;
            case 6: (void)grym::audioldm::parseDpmSolverConfig(j, source); break;
            case 7: (void)grym::parseWav2vec2Config(j, source); break;
            case 8: (void)grym::parseWav2vec2PreprocessorConfig(j, source); break;
        }
    } catch (const grym::ModelError&) {
    }
    return 0;
}
