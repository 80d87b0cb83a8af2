#include "api/api_requests.h"

#include "common/json_reader.h"
#include "common/strings.h"

#include <cmath>
#include <set>

namespace grym {

namespace {

// Request fields are refused as FieldErrors naming the field (the HTTP layer answers 400 with it).
[[noreturn]] void throwFieldError(const FieldRejection& r) {
    if (r.value.empty()) throw FieldError(r.field, r.why.empty() ? "is required" : r.why);
    throw FieldError(r.field, r.why + ", got " + r.value);
}

}  // namespace

nlohmann::json toJson(const ApiLimits& limits) {
    return {{"min_duration", limits.minGenerateSeconds}, {"max_duration", limits.maxGenerateSeconds},
            {"max_analyze_duration", limits.maxAnalyzeSeconds}, {"max_steps", limits.maxSteps},
            {"max_variations", limits.maxVariations}, {"max_guidance", limits.maxGuidance},
            {"max_prompt_chars", limits.maxPromptChars}};
}

void validate(const GenerateRequest& r, const ApiLimits& limits) {
    auto trimmedEmpty = r.prompt.find_first_not_of(" \t\r\n") == std::string::npos;
    if (trimmedEmpty) throw FieldError("prompt", "must not be empty");
    if (r.prompt.size() > limits.maxPromptChars)
        throw FieldError("prompt", "is longer than " + std::to_string(limits.maxPromptChars) + " characters");
    if (r.negativePrompt.size() > limits.maxPromptChars)
        throw FieldError("negative_prompt", "is longer than " + std::to_string(limits.maxPromptChars) + " characters");
    if (!std::isfinite(r.durationSeconds) || r.durationSeconds < limits.minGenerateSeconds ||
        r.durationSeconds > limits.maxGenerateSeconds)
        throw FieldError("duration", "must be between " + shortNumber(limits.minGenerateSeconds) + " and " +
                                         shortNumber(limits.maxGenerateSeconds) + " seconds");
    if (r.steps < 1 || r.steps > limits.maxSteps)
        throw FieldError("steps", "must be between 1 and " + std::to_string(limits.maxSteps));
    if (!std::isfinite(r.guidanceScale) || r.guidanceScale < 0.0 || r.guidanceScale > limits.maxGuidance)
        throw FieldError("guidance", "must be between 0 and " + shortNumber(limits.maxGuidance));
    if (r.seed && *r.seed < 0) throw FieldError("seed", "must not be negative");
    if (r.scheduler != "ddim" && r.scheduler != "dpm++")
        throw FieldError("scheduler", "must be \"ddim\" or \"dpm++\" (got \"" + r.scheduler + "\")");
    if (r.variations < 1 || r.variations > limits.maxVariations)
        throw FieldError("variations", "must be between 1 and " + std::to_string(limits.maxVariations));
    if (r.outputSampleRate != 16000 && r.outputSampleRate != 44100 && r.outputSampleRate != 48000)
        throw FieldError("sample_rate", "must be 16000, 44100 or 48000");
    if (!r.latentsFile.empty() && r.variations != 1)
        throw FieldError("variations", "must be 1 when starting latents are given");
}

GenerateRequest parseGenerateRequest(const nlohmann::json& body, const ApiLimits& limits) {
    if (!body.is_object()) throw FieldError("body", "must be a JSON object");
    const JsonReader fields(body, "request", throwFieldError);
    static const std::set<std::string> known = {"prompt",    "negative_prompt", "duration",   "steps",
                                                "guidance",  "seed",            "scheduler",  "variations",
                                                "sample_rate", "loop"};
    for (auto it = body.begin(); it != body.end(); ++it)
        if (!known.count(it.key())) throw FieldError(it.key(), "is not a known field");

    // null is refused except where it means "none" (negative_prompt, seed).
    GenerateRequest r;
    r.prompt = fields.string("prompt");
    r.negativePrompt = fields.string("negative_prompt", r.negativePrompt);
    if (fields.contains("duration")) r.durationSeconds = fields.number("duration");
    if (fields.contains("steps")) r.steps = static_cast<int>(fields.integer("steps"));
    if (fields.contains("guidance")) r.guidanceScale = fields.number("guidance");
    if (fields.has("seed")) r.seed = fields.integer("seed");
    if (fields.contains("scheduler")) r.scheduler = fields.string("scheduler");
    if (fields.contains("variations")) r.variations = static_cast<int>(fields.integer("variations"));
    if (fields.contains("sample_rate")) r.outputSampleRate = static_cast<int>(fields.integer("sample_rate"));
    if (fields.contains("loop")) r.loop = fields.boolean("loop");
    validate(r, limits);
    return r;
}

nlohmann::json toTaskParameters(const GenerateRequest& r) {
    nlohmann::json p = {{"negative_prompt", r.negativePrompt},
                        {"duration", r.durationSeconds},
                        {"steps", r.steps},
                        {"guidance", r.guidanceScale},
                        {"scheduler", r.scheduler},
                        {"variations", r.variations},
                        {"sample_rate", r.outputSampleRate}};
    if (r.seed) p["seed"] = *r.seed;
    if (r.loop) p["loop"] = true;
    if (!r.latentsFile.empty()) {
        p["latents_file"] = r.latentsFile;
        if (!r.latentsKey.empty()) p["latents_key"] = r.latentsKey;
    }
    return p;
}

nlohmann::json toJson(const GenerateRequest& r) {
    auto j = toTaskParameters(r);
    j["prompt"] = r.prompt;
    return j;
}

}  // namespace grym

namespace grym {

ClipRange parseClipRange(const std::string& text, const std::string& field) {
    const auto colon = text.find(':');
    const std::string expected = "must be START:END in seconds (for example 2.0:3.5)";
    if (colon == std::string::npos) throw FieldError(field, expected + ", got \"" + text + "\"");
    auto number = [&](const std::string& part) {
        const auto value = parseFiniteNumber(part);
        if (!value) throw FieldError(field, expected + ", got \"" + text + "\"");
        return *value;
    };
    ClipRange range{number(text.substr(0, colon)), number(text.substr(colon + 1))};
    if (range.startSeconds < 0.0 || range.endSeconds <= range.startSeconds)
        throw FieldError(field, "must start at 0 or later and end after it starts, got \"" + text + "\"");
    return range;
}

ExportOptions parseExportQuery(const QueryParameters& query) {
    static const std::set<std::string> known = {"format", "start", "end", "fade_in", "fade_out", "lufs"};
    for (const auto& [name, value] : query) {
        if (!known.count(name)) throw FieldError(name, "is not a known export parameter");
        if (query.count(name) > 1) throw FieldError(name, "is given more than once");
    }
    // An empty value (a blank field of an HTML form) is the same as leaving the parameter out.
    auto given = [&](const char* name) -> std::optional<std::string> {
        const auto it = query.find(name);
        if (it == query.end() || it->second.empty()) return std::nullopt;
        return it->second;
    };
    auto number = [&](const char* name, const char* what) -> std::optional<double> {
        const auto text = given(name);
        if (!text) return std::nullopt;
        const auto value = parseFiniteNumber(*text);
        if (!value) throw FieldError(name, std::string("must be ") + what + ", got \"" + *text + "\"");
        return value;
    };
    ExportOptions options;
    if (const auto format = given("format")) {
        const auto parsed = parseExportFormat(*format);
        if (!parsed) {
            std::string names;
            for (ExportFormat f : allExportFormats()) names += std::string(names.empty() ? "" : ", ") + toString(f);
            throw FieldError("format", "must be one of " + names + ", got \"" + *format + "\"");
        }
        options.format = *parsed;
    }
    options.trimStartSeconds = number("start", "a time in seconds").value_or(0.0);
    options.trimEndSeconds = number("end", "a time in seconds");
    options.fadeInSeconds = number("fade_in", "a length in seconds").value_or(0.0);
    options.fadeOutSeconds = number("fade_out", "a length in seconds").value_or(0.0);
    options.normaliseLufs = number("lufs", "a loudness in LUFS (for example -14)");
    return options;
}

const char* exportQueryField(ExportSetting setting) {
    switch (setting) {
        case ExportSetting::Clip: return "id";
        case ExportSetting::Format: return "format";
        case ExportSetting::TrimStart: return "start";
        case ExportSetting::TrimEnd: return "end";
        case ExportSetting::FadeIn: return "fade_in";
        case ExportSetting::FadeOut: return "fade_out";
        case ExportSetting::Loudness: return "lufs";
    }
    return "id";
}

void validate(const ClipRange& range, double clipSeconds) {
    if (range.startSeconds < 0.0 || range.endSeconds <= range.startSeconds || range.endSeconds > clipSeconds + 1e-6)
        throw FieldError("range", shortNumber(range.startSeconds) + ":" + shortNumber(range.endSeconds) +
                                      " s is not inside the clip (0:" + shortNumber(clipSeconds) + " s)");
}

}  // namespace grym
