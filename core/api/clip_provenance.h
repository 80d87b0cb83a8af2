#pragma once
// The provenance of a generated clip: the settings it was made with, built in one place from a
// finished generation task and carried inside every file the app, the CLI and the HTTP API
// write (AudioMetadata: WAV LIST/INFO + a JSON chunk, FLAC Vorbis comments), in the history
// folder beside the audio, and back into a GenerateRequest to make the clip again.
#include "api/api_requests.h"
#include "audio/audio_file.h"
#include "orchestration/model_service.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace grym {

struct ClipProvenance {
    std::string prompt;
    std::string negativePrompt;
    int64_t seed = 0;
    int steps = 0;
    double guidance = 0.0;
    std::string scheduler;           // "ddim", "dpm++"
    double durationSeconds = 0.0;    // as requested
    int sampleRate = 0;              // of the audio written
    std::string modelId;             // "cvssp/audioldm-s-full-v2", or the folder's name
    std::string modelCommit;         // the Hub snapshot's commit; empty for a plain folder
    std::string modelFolder;
    std::string device;              // "cpu", "cuda"
    std::string precision;           // "fp32", "fp16", "bf16", "int8", "int4"
    std::string version;             // grym-synth's version
    std::string created;             // UTC, ISO 8601
    std::optional<double> variationStrength;  // set when the clip is a variation of another
};

// A model folder's Hub identity: <cache>/models--ORG--NAME/snapshots/<commit>[/...] gives
// "ORG/NAME" and the commit; any other folder gives its own name and no commit.
struct ModelIdentity {
    std::string id;
    std::string commit;
};
ModelIdentity identifyModelFolder(const std::string& folder);

// From a generation task: its prompt and parameters (as AudioApi submitted them), what the
// service reported (the seed it used, the audio's rate) and the service it ran on.
ClipProvenance makeProvenance(const TaskInput& input, const TaskResult& result, const ServiceInfo& service);

// The key under which AudioApi puts the provenance into a generation's TaskResult::data.
inline constexpr const char* kProvenanceKey = "provenance";
// The provenance AudioApi attached to a finished generation; nullopt for other results.
std::optional<ClipProvenance> provenanceOf(const TaskResult& result);

nlohmann::json toJson(const ClipProvenance& provenance);
// Throws AudioError naming `source` and the field when the JSON is not a provenance object.
ClipProvenance provenanceFromJson(const nlohmann::json& json, const std::string& source);

// What a file carries: title = prompt, a one-line summary as the comment, the software and
// date, and the whole provenance as the settings JSON.
AudioMetadata toAudioMetadata(const ClipProvenance& provenance);
// The same for a clip's settings as the library keeps them (a provenance JSON object); empty
// metadata when there are none (a clip dropped in without settings). `source` names them in errors.
AudioMetadata audioMetadataFromSettings(const nlohmann::json& settings, const std::string& source);
// The provenance inside an audio file; nullopt when it has none. Throws AudioError when the
// file cannot be opened or its settings are malformed.
std::optional<ClipProvenance> readProvenance(const std::string& audioPath);

// "seed 42 · 10 steps · guidance 2.5 · ddim · cvssp/audioldm-s-full-v2 · fp32"
std::string summarize(const ClipProvenance& provenance);

// The request that makes the same clip again (one take, the recorded seed).
GenerateRequest toGenerateRequest(const ClipProvenance& provenance);

}  // namespace grym
