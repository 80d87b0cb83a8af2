#pragma once
// ServiceBridge: hands the output of one service to another as a new task.
//
//   analyse -> generate: a variation of an analysed clip. The context carries the clip's audio,
//                        sample rate, duration and the analysis result; the generation task gets
//                        the clip as input audio and the analysis under parameters["analysis"].
//   generate -> analyse: analyse what was just made. The context carries the generated audio and
//                        the prompt/parameters it came from (parameters["generatedFrom"]).
//
// transferContext builds the context, validateHandoff lists concrete issues (wrong sample rate,
// missing audio, duration out of range, service not ready), executeHandoff checks again and
// submits the new task to a TaskQueue.
#include "orchestration/task_queue.h"
#include "orchestration/task_router.h"

#include <functional>
#include <string>
#include <vector>

namespace grym {

enum class HandoffKind { AnalysisToGeneration, GenerationToAnalysis };
const char* toString(HandoffKind k);

struct HandoffContext {
    HandoffKind kind = HandoffKind::AnalysisToGeneration;
    std::string sourceServiceId;
    std::string targetServiceId;  // empty: the first service of the target type
    std::optional<AudioBuffer> audio;
    int sampleRate = 0;
    double durationSeconds = 0.0;
    std::string prompt;                                      // the generation prompt (either way)
    nlohmann::json analysis = nlohmann::json::object();      // analysis result data (analyse -> generate)
    nlohmann::json generation = nlohmann::json::object();    // prompt and parameters that made the audio
    nlohmann::json parameters = nlohmann::json::object();    // parameters for the target task
};

struct HandoffIssue {
    enum class Severity { Warning, Error };
    Severity severity = Severity::Error;
    std::string code;     // "missing-audio", "empty-audio", "sample-rate", "channels", "duration",
                          // "no-service", "wrong-service-type", "service-not-ready", "service-failed",
                          // "missing-prompt"
    std::string message;  // readable, names the values
};

// Converts audio to another sample rate (wired to core/audio's resampler by the composer).
using Resampler = std::function<AudioBuffer(const AudioBuffer&, int targetRate)>;

class ServiceBridge {
public:
    explicit ServiceBridge(TaskRouter& router, Resampler resampler = {});

    // `sourceInput`/`sourceResult`: the finished task's input and result. `parameters` are merged
    // into the target task's parameters (prompt overrides go in parameters["prompt"]).
    HandoffContext transferContext(HandoffKind kind, const std::string& sourceServiceId, const TaskInput& sourceInput,
                                   const TaskResult& sourceResult,
                                   const nlohmann::json& parameters = nlohmann::json::object()) const;

    std::vector<HandoffIssue> validateHandoff(const HandoffContext& context) const;
    static bool hasErrors(const std::vector<HandoffIssue>& issues);

    // The target task's input (resampled when a resampler is set and the rate differs).
    // Throws TaskError listing every error-level issue.
    TaskInput prepareInput(const HandoffContext& context) const;

    // Validates, prepares and submits the target task; the router loads the target service when
    // it runs. Throws TaskError listing the issues when the hand-off cannot run.
    TaskHandle executeHandoff(const HandoffContext& context, TaskQueue& queue,
                              std::optional<TaskPriority> priority = std::nullopt, TaskCallbacks callbacks = {}) const;

private:
    TaskType targetType(HandoffKind kind) const;
    std::shared_ptr<ModelService> targetService(const HandoffContext& context) const;

    TaskRouter& router_;
    Resampler resampler_;
};

}  // namespace grym
