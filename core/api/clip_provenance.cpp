#include "api/clip_provenance.h"

#include "common/error.h"
#include "common/json_reader.h"

#include <ctime>
#include <filesystem>
#include <iomanip>
#include <sstream>
#include <vector>

namespace fs = std::filesystem;

namespace grym {

namespace {

[[noreturn]] void throwProvenanceError(const FieldRejection& rejection) { throw AudioError(rejection.message()); }

std::string provenanceTimestamp() {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
#ifdef _WIN32
    gmtime_s(&utc, &now);
#else
    gmtime_r(&now, &utc);
#endif
    char text[32];
    std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

std::string settingNumber(double value) {
    std::ostringstream out;
    out << std::setprecision(6) << value;
    return out.str();
}

}  // namespace

ModelIdentity identifyModelFolder(const std::string& folder) {
    ModelIdentity identity;
    if (folder.empty()) return identity;
    const fs::path path = fs::path(folder).lexically_normal();
    std::vector<std::string> parts;
    for (const auto& part : path)
        if (!part.empty() && part != "/") parts.push_back(part.string());
    // Hub cache layout: .../models--ORG--NAME/snapshots/<commit>
    for (size_t i = 0; i + 2 < parts.size(); ++i) {
        const std::string& repo = parts[i];
        if (repo.rfind("models--", 0) != 0 || parts[i + 1] != "snapshots") continue;
        std::string id = repo.substr(8);
        if (const auto dash = id.find("--"); dash != std::string::npos) id.replace(dash, 2, "/");
        identity.id = id;
        identity.commit = parts[i + 2];
        return identity;
    }
    identity.id = parts.empty() ? folder : parts.back();
    return identity;
}

ClipProvenance makeProvenance(const TaskInput& input, const TaskResult& result, const ServiceInfo& service) {
    const JsonReader p(input.parameters, "generation parameters", throwTaskError);
    const JsonReader r(result.data, "generation result", throwTaskError);
    ClipProvenance c;
    c.prompt = !input.prompt.empty() ? input.prompt : p.string("prompt", "");
    c.negativePrompt = p.string("negative_prompt", "");
    c.seed = r.has("seed") ? r.integer("seed") : p.integer("seed", 0);
    c.steps = static_cast<int>(r.has("steps") ? r.integer("steps") : p.integer("steps", 0));
    c.guidance = p.number("guidance", 0.0);
    c.scheduler = p.string("scheduler", "");
    c.durationSeconds = p.number("duration", 0.0);
    c.sampleRate = static_cast<int>(p.integer("sample_rate", result.audio ? result.audio->sampleRate : 0));
    const ModelIdentity model = identifyModelFolder(service.modelPath);
    c.modelId = model.id.empty() ? service.id : model.id;
    c.modelCommit = model.commit;
    c.modelFolder = service.modelPath;
    c.device = toString(service.device);
    c.precision = toString(service.precision);
    c.version = GRYM_VERSION;
    c.created = provenanceTimestamp();
    if (input.audio && p.has("strength")) c.variationStrength = p.number("strength");
    return c;
}

std::optional<ClipProvenance> provenanceOf(const TaskResult& result) {
    if (!result.data.is_object() || !result.data.contains(kProvenanceKey)) return std::nullopt;
    return provenanceFromJson(result.data.at(kProvenanceKey), "generation result");
}

nlohmann::json toJson(const ClipProvenance& c) {
    nlohmann::json j = {{"prompt", c.prompt},
                        {"negative_prompt", c.negativePrompt},
                        {"seed", c.seed},
                        {"steps", c.steps},
                        {"guidance", c.guidance},
                        {"scheduler", c.scheduler},
                        {"duration", c.durationSeconds},
                        {"sample_rate", c.sampleRate},
                        {"model_id", c.modelId},
                        {"model_commit", c.modelCommit},
                        {"model_folder", c.modelFolder},
                        {"device", c.device},
                        {"precision", c.precision},
                        {"grym_synth_version", c.version},
                        {"created", c.created}};
    if (c.variationStrength) j["variation_strength"] = *c.variationStrength;
    return j;
}

ClipProvenance provenanceFromJson(const nlohmann::json& json, const std::string& source) {
    if (!json.is_object()) throw AudioError(source + ": the settings are not a JSON object");
    const JsonReader j(json, source, throwProvenanceError);
    ClipProvenance c;
    c.prompt = j.string("prompt");
    c.negativePrompt = j.string("negative_prompt", "");
    c.seed = j.integer("seed");
    c.steps = static_cast<int>(j.integer("steps"));
    c.guidance = j.number("guidance");
    c.scheduler = j.string("scheduler", "");
    c.durationSeconds = j.number("duration", 0.0);
    c.sampleRate = static_cast<int>(j.integer("sample_rate", 0));
    c.modelId = j.string("model_id", "");
    c.modelCommit = j.string("model_commit", "");
    c.modelFolder = j.string("model_folder", "");
    c.device = j.string("device", "");
    c.precision = j.string("precision", "");
    c.version = j.string("grym_synth_version", "");
    c.created = j.string("created", "");
    if (j.has("variation_strength")) c.variationStrength = j.number("variation_strength");
    return c;
}

std::string summarize(const ClipProvenance& c) {
    std::string s = "seed " + std::to_string(c.seed) + " · " + std::to_string(c.steps) + " steps · guidance " +
                    settingNumber(c.guidance);
    if (!c.scheduler.empty()) s += " · " + c.scheduler;
    if (!c.modelId.empty()) s += " · " + c.modelId;
    if (!c.precision.empty()) s += " · " + c.precision;
    if (c.variationStrength) s += " · variation " + settingNumber(*c.variationStrength);
    return s;
}

AudioMetadata audioMetadataFromSettings(const nlohmann::json& settings, const std::string& source) {
    if (!settings.is_object() || settings.empty()) return {};
    return toAudioMetadata(provenanceFromJson(settings, source));
}

AudioMetadata toAudioMetadata(const ClipProvenance& c) {
    AudioMetadata m;
    m.title = c.prompt;
    m.comment = summarize(c);
    m.software = "grym-synth " + c.version;
    m.date = c.created;
    m.settingsJson = toJson(c).dump();
    return m;
}

std::optional<ClipProvenance> readProvenance(const std::string& audioPath) {
    const AudioMetadata m = readAudioMetadata(audioPath);
    if (m.settingsJson.empty()) return std::nullopt;
    const nlohmann::json json = nlohmann::json::parse(m.settingsJson, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) throw AudioError("audio file '" + audioPath + "': its grym-synth settings are not valid JSON");
    return provenanceFromJson(json, "audio file '" + audioPath + "' settings");
}

GenerateRequest toGenerateRequest(const ClipProvenance& c) {
    GenerateRequest r;
    r.prompt = c.prompt;
    r.negativePrompt = c.negativePrompt;
    r.seed = c.seed;
    r.steps = c.steps;
    r.guidanceScale = c.guidance;
    if (!c.scheduler.empty()) r.scheduler = c.scheduler;
    if (c.durationSeconds > 0) r.durationSeconds = c.durationSeconds;
    if (c.sampleRate > 0) r.outputSampleRate = c.sampleRate;
    r.variations = 1;
    return r;
}

}  // namespace grym
