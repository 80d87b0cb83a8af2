#include "orchestration/service_bridge.h"

#include "common/error.h"

#include <cmath>
#include <sstream>

namespace grym {

const char* toString(HandoffKind k) {
    return k == HandoffKind::AnalysisToGeneration ? "analysis->generation" : "generation->analysis";
}

namespace {

std::string seconds(double s) {
    std::ostringstream os;
    os.precision(3);
    os << s << " s";
    return os.str();
}

HandoffIssue issue(HandoffIssue::Severity severity, std::string code, std::string message) {
    return HandoffIssue{severity, std::move(code), std::move(message)};
}

// Averages interleaved channels into one.
AudioBuffer mixDownToMono(const AudioBuffer& in) {
    AudioBuffer out;
    out.sampleRate = in.sampleRate;
    out.channels = 1;
    const int64_t frames = in.frames();
    out.samples.resize(static_cast<size_t>(frames));
    for (int64_t f = 0; f < frames; ++f) {
        float sum = 0.0f;
        for (int c = 0; c < in.channels; ++c) sum += in.sample(f, c);
        out.samples[static_cast<size_t>(f)] = sum / static_cast<float>(in.channels);
    }
    return out;
}

}  // namespace

ServiceBridge::ServiceBridge(TaskRouter& router, Resampler resampler)
    : router_(router), resampler_(std::move(resampler)) {}

TaskType ServiceBridge::targetType(HandoffKind kind) const {
    return kind == HandoffKind::AnalysisToGeneration ? TaskType::Generation : TaskType::Analysis;
}

std::shared_ptr<ModelService> ServiceBridge::targetService(const HandoffContext& context) const {
    return context.targetServiceId.empty() ? router_.registry().forType(targetType(context.kind))
                                           : router_.registry().get(context.targetServiceId);
}

HandoffContext ServiceBridge::transferContext(HandoffKind kind, const std::string& sourceServiceId,
                                              const TaskInput& sourceInput, const TaskResult& sourceResult,
                                              const nlohmann::json& parameters) const {
    HandoffContext c;
    c.kind = kind;
    c.sourceServiceId = sourceServiceId;
    c.parameters = parameters.is_object() ? parameters : nlohmann::json::object();
    if (c.parameters.contains("service") && c.parameters["service"].is_string())
        c.targetServiceId = c.parameters["service"].get<std::string>();

    if (kind == HandoffKind::AnalysisToGeneration) {
        c.audio = sourceInput.audio;  // the analysed clip is what the variation starts from
        c.analysis = sourceResult.data;
        c.prompt = c.parameters.value("prompt", sourceInput.prompt);
        c.parameters["analysis"] = c.analysis;
        c.parameters["variationOf"] = sourceServiceId;
    } else {
        c.audio = sourceResult.audio;  // analyse what was just generated
        c.prompt = sourceInput.prompt;
        c.generation = {{"service", sourceServiceId}, {"prompt", sourceInput.prompt},
                        {"parameters", sourceInput.parameters}};
        c.parameters["generatedFrom"] = c.generation;
    }
    if (c.audio) {
        c.sampleRate = c.audio->sampleRate;
        c.durationSeconds = c.audio->duration();
        if (kind == HandoffKind::AnalysisToGeneration && !c.parameters.contains("duration"))
            c.parameters["duration"] = c.durationSeconds;
    }
    return c;
}

std::vector<HandoffIssue> ServiceBridge::validateHandoff(const HandoffContext& context) const {
    using Severity = HandoffIssue::Severity;
    std::vector<HandoffIssue> issues;
    const TaskType wanted = targetType(context.kind);

    std::shared_ptr<ModelService> service;
    try {
        service = targetService(context);
    } catch (const TaskError& e) {
        issues.push_back(issue(Severity::Error, "no-service", e.what()));
    }
    InputRequirements req;
    if (service) {
        if (service->taskType() != wanted)
            issues.push_back(issue(Severity::Error, "wrong-service-type",
                                   "service '" + service->id() + "' runs " + toString(service->taskType()) +
                                       " tasks, but a " + toString(context.kind) + " hand-off needs a " +
                                       toString(wanted) + " service"));
        const ServiceInfo info = service->info();
        if (info.status == ServiceStatus::Failed)
            issues.push_back(issue(Severity::Error, "service-failed",
                                   "service '" + service->id() + "' failed" +
                                       (info.statusMessage.empty() ? "" : ": " + info.statusMessage)));
        else if (info.status == ServiceStatus::Unloaded || info.status == ServiceStatus::Loading)
            issues.push_back(issue(Severity::Warning, "service-not-ready",
                                   "service '" + service->id() + "' is " + toString(info.status) +
                                       "; it will be loaded before the task runs"));
        req = service->inputRequirements();
    }

    const std::string target = service ? "'" + service->id() + "'" : "the target service";
    if (!context.audio) {
        issues.push_back(issue(Severity::Error, "missing-audio",
                               std::string("the ") + toString(context.kind) + " hand-off carries no audio" +
                                   (context.kind == HandoffKind::AnalysisToGeneration
                                        ? " (the analysed clip is needed for a variation)"
                                        : " (the generation produced none)")));
    } else {
        const AudioBuffer& a = *context.audio;
        if (a.empty() || a.channels <= 0) {
            issues.push_back(issue(Severity::Error, "empty-audio", "the hand-off audio has no samples"));
        } else {
            if (a.sampleRate <= 0)
                issues.push_back(issue(Severity::Error, "sample-rate", "the hand-off audio has no sample rate"));
            else if (req.sampleRate > 0 && a.sampleRate != req.sampleRate)
                issues.push_back(issue(resampler_ ? Severity::Warning : Severity::Error, "sample-rate",
                                       "the audio is " + std::to_string(a.sampleRate) + " Hz but " + target +
                                           " expects " + std::to_string(req.sampleRate) + " Hz" +
                                           (resampler_ ? "; it will be resampled" : " and no resampler is set")));
            if (req.maxChannels > 0 && a.channels > req.maxChannels)
                issues.push_back(issue(Severity::Warning, "channels",
                                       "the audio has " + std::to_string(a.channels) + " channels but " + target +
                                           " takes at most " + std::to_string(req.maxChannels) +
                                           "; it will be mixed down"));
            const double d = a.duration();
            const bool tooShort = req.minDurationSeconds > 0 && d < req.minDurationSeconds;
            const bool tooLong = req.maxDurationSeconds > 0 && d > req.maxDurationSeconds;
            if (tooShort || tooLong)
                issues.push_back(issue(Severity::Error, "duration",
                                       "the audio lasts " + seconds(d) + " but " + target + " accepts " +
                                           seconds(req.minDurationSeconds) + " to " +
                                           (req.maxDurationSeconds > 0 ? seconds(req.maxDurationSeconds) : "any length")));
        }
    }
    if (wanted == TaskType::Generation && context.prompt.empty())
        issues.push_back(issue(Severity::Error, "missing-prompt",
                               "a variation needs a prompt describing the result (parameters.prompt)"));
    return issues;
}

bool ServiceBridge::hasErrors(const std::vector<HandoffIssue>& issues) {
    for (const auto& i : issues)
        if (i.severity == HandoffIssue::Severity::Error) return true;
    return false;
}

TaskInput ServiceBridge::prepareInput(const HandoffContext& context) const {
    const auto issues = validateHandoff(context);
    if (hasErrors(issues)) {
        std::string message = std::string("the ") + toString(context.kind) + " hand-off cannot run:";
        for (const auto& i : issues)
            if (i.severity == HandoffIssue::Severity::Error) message += "\n  - " + i.message;
        throw TaskError(message);
    }
    const InputRequirements req = targetService(context)->inputRequirements();
    TaskInput input;
    input.prompt = context.prompt;
    input.parameters = context.parameters;
    AudioBuffer audio = *context.audio;
    if (req.maxChannels > 0 && audio.channels > req.maxChannels) audio = mixDownToMono(audio);
    if (req.sampleRate > 0 && audio.sampleRate != req.sampleRate) audio = resampler_(audio, req.sampleRate);
    input.audio = std::move(audio);
    return input;
}

TaskHandle ServiceBridge::executeHandoff(const HandoffContext& context, TaskQueue& queue,
                                         std::optional<TaskPriority> priority, TaskCallbacks callbacks) const {
    TaskInput input = prepareInput(context);
    const std::string label = context.kind == HandoffKind::AnalysisToGeneration
                                  ? "variation: " + context.prompt
                                  : "analysis of generated audio" + (context.prompt.empty() ? "" : ": " + context.prompt);
    AudioTask task = router_.makeTask(targetType(context.kind), std::move(input), priority,
                                      targetService(context)->id(), label);
    return queue.submit(std::move(task), std::move(callbacks));
}

}  // namespace grym
