#pragma once
// A filled-in set of generation settings for tests that check they travel with a file.
#include "api/clip_provenance.h"

#include <string>

namespace grym::test {

inline ClipProvenance sampleProvenance(std::string prompt, int64_t seed) {
    ClipProvenance settings;
    settings.prompt = std::move(prompt);
    settings.seed = seed;
    settings.steps = 25;
    settings.guidance = 3.0;
    settings.scheduler = "dpm++";
    settings.durationSeconds = 2.0;
    settings.sampleRate = 48000;
    settings.modelId = "cvssp/audioldm-s-full-v2";
    settings.device = "cpu";
    settings.precision = "int8";
    settings.version = "0.1.0";
    settings.created = "2026-12-03T12:00:00Z";
    return settings;
}

}  // namespace grym::test
