#pragma once
// Requests the AudioApi accepts, their limits, and validation that names the field at fault.
// Both the HTTP layer (JSON bodies) and the GUI/CLI (typed structs) validate through here.
#include "audio/clip_export.h"
#include "common/error.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace grym {

// A parameter is missing, of the wrong type or out of range.
class FieldError : public ApiError {
public:
    FieldError(std::string field, const std::string& message)
        : ApiError(field + ": " + message), field_(std::move(field)) {}
    const std::string& field() const { return field_; }

private:
    std::string field_;
};

// The one set of generation limits: AudioApi holds it (AudioApiConfig::limits) and the desktop
// form, the CLI and the HTTP API all validate against it (the form reads it from the API, the
// browser page from GET /v1/status). Where the earlier per-front-end limits disagreed, the
// stricter value was kept (guidance 20, prompts 500 characters); the shortest duration is
// 0.1 s, which the tiny test models and `generate --duration` for short sounds need.
struct ApiLimits {
    double minGenerateSeconds = 0.1;
    double maxGenerateSeconds = 60.0;   // beyond the model's window: overlapping windows
    double maxAnalyzeSeconds = 600.0;
    int maxSteps = 500;
    int maxVariations = 8;
    double maxGuidance = 20.0;
    size_t maxPromptChars = 500;
};

nlohmann::json toJson(const ApiLimits& limits);

struct GenerateRequest {
    std::string prompt;
    std::string negativePrompt;
    double durationSeconds = 5.0;
    int steps = 10;
    double guidanceScale = 2.5;
    std::optional<int64_t> seed;          // none: the service picks one and reports it
    std::string scheduler = "ddim";       // "ddim" | "dpm++"
    int variations = 1;
    int outputSampleRate = 16000;         // 16000, 44100 or 48000
    // Starting latents from a local safetensors file instead of seeded noise (CLI and tests
    // reproducing a reference run; not accepted over HTTP).
    std::string latentsFile;
    std::string latentsKey;               // tensor name; default "latents" or the file's only tensor
    bool loop = false;                    // the clip's end flows into its start
};

// A stretch of a clip in seconds ("2.0:3.5" on the command line and over HTTP).
struct ClipRange {
    double startSeconds = 0.0;
    double endSeconds = 0.0;
    double length() const { return endSeconds - startSeconds; }
};

// "START:END" in seconds, START >= 0 and END > START; throws FieldError(field) otherwise.
ClipRange parseClipRange(const std::string& text, const std::string& field = "range");
// An export's settings from a URL query (GET /v1/tasks/{id}/export): format (wav16, wav24,
// wavf, flac, ogg; default wav24), start and end (trim, in seconds), fade_in and fade_out
// (seconds) and lufs (a loudness target). Throws FieldError naming the parameter for an
// unknown or repeated parameter, a format it does not know or a value that is not a number;
// whether the values fit the clip is clip_export's to say (ExportSettingError).
using QueryParameters = std::multimap<std::string, std::string>;
ExportOptions parseExportQuery(const QueryParameters& query);
// The query parameter an ExportSettingError's setting came from ("start", "fade_in", ...).
const char* exportQueryField(ExportSetting setting);

// Throws FieldError("range") unless the range lies inside a clip of `clipSeconds`.
void validate(const ClipRange& range, double clipSeconds);

// Throws FieldError for the first field that is invalid.
void validate(const GenerateRequest& request, const ApiLimits& limits);

// Parses and validates a JSON body; unknown fields and wrong types are FieldErrors.
GenerateRequest parseGenerateRequest(const nlohmann::json& body, const ApiLimits& limits);

// The parameters object a generation ModelService receives.
nlohmann::json toTaskParameters(const GenerateRequest& request);
nlohmann::json toJson(const GenerateRequest& request);

}  // namespace grym
