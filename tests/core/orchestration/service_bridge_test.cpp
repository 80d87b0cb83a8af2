#include "support/fake_services.h"
#include "orchestration/service_bridge.h"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace grym;
using namespace grym::test;

namespace {

class PickyService : public FakeService {
public:
    PickyService(std::string id, TaskType type, InputRequirements req) : FakeService(std::move(id), type), req_(req) {}
    InputRequirements inputRequirements() const override { return req_; }

private:
    InputRequirements req_;
};

AudioBuffer tone(double seconds, int rate, int channels = 1) {
    AudioBuffer a;
    a.sampleRate = rate;
    a.channels = channels;
    a.samples.assign(static_cast<size_t>(seconds * rate) * channels, 0.1f);
    return a;
}

bool hasIssue(const std::vector<HandoffIssue>& issues, const std::string& code, HandoffIssue::Severity severity) {
    return std::any_of(issues.begin(), issues.end(),
                       [&](const HandoffIssue& i) { return i.code == code && i.severity == severity; });
}

struct Fixture {
    ServiceRegistry registry;
    std::shared_ptr<PickyService> analysis =
        std::make_shared<PickyService>("wav2vec2", TaskType::Analysis, InputRequirements{true, 16000, 1, 0.1, 60.0});
    std::shared_ptr<PickyService> generation =
        std::make_shared<PickyService>("audioldm", TaskType::Generation, InputRequirements{false, 16000, 1, 0.0, 30.0});
    TaskRouter router{registry};
    Fixture() {
        registry.add(analysis);
        registry.add(generation);
    }
};

}  // namespace

TEST_CASE("analyse-then-generate carries the clip, its rate, duration and analysis", "[bridge]") {
    Fixture f;
    ServiceBridge bridge(f.router);
    TaskInput analysed;
    analysed.audio = tone(2.0, 16000);
    TaskResult analysis;
    analysis.data = {{"tempo", 120}, {"patterns", {"pulse"}}};
    const HandoffContext c = bridge.transferContext(HandoffKind::AnalysisToGeneration, "wav2vec2", analysed, analysis,
                                                    {{"prompt", "the same groove on a marimba"}, {"steps", 25}});
    CHECK(c.audio.has_value());
    CHECK(c.sampleRate == 16000);
    CHECK(c.durationSeconds == Approx(2.0));
    CHECK(c.analysis["tempo"] == 120);
    CHECK(c.prompt == "the same groove on a marimba");
    CHECK(c.parameters["analysis"]["tempo"] == 120);
    CHECK(c.parameters["duration"] == Approx(2.0));
    CHECK(c.parameters["steps"] == 25);

    const auto issues = bridge.validateHandoff(c);
    CHECK_FALSE(ServiceBridge::hasErrors(issues));
    CHECK(hasIssue(issues, "service-not-ready", HandoffIssue::Severity::Warning));

    TaskQueue queue(TaskQueueConfig{}, f.router.runner());
    TaskHandle h = bridge.executeHandoff(c, queue);
    REQUIRE(h.wait() == TaskState::Succeeded);
    CHECK(h.result().get().data["prompt"] == "the same groove on a marimba");
    CHECK(h.status().label == "variation: the same groove on a marimba");
    CHECK(f.generation->isReady());
}

TEST_CASE("generate-then-analyse carries the generated audio and where it came from", "[bridge]") {
    Fixture f;
    ServiceBridge bridge(f.router);
    TaskInput request;
    request.prompt = "a dog barking";
    request.parameters = {{"steps", 10}};
    TaskResult generated;
    generated.audio = tone(1.5, 16000);
    const HandoffContext c = bridge.transferContext(HandoffKind::GenerationToAnalysis, "audioldm", request, generated);
    CHECK(c.durationSeconds == Approx(1.5));
    CHECK(c.parameters["generatedFrom"]["prompt"] == "a dog barking");
    CHECK(c.parameters["generatedFrom"]["parameters"]["steps"] == 10);

    TaskQueue queue(TaskQueueConfig{}, f.router.runner());
    TaskHandle h = bridge.executeHandoff(c, queue, TaskPriority::High);
    REQUIRE(h.wait() == TaskState::Succeeded);
    CHECK(h.result().get().data["service"] == "wav2vec2");
}

TEST_CASE("hand-off validation names concrete problems", "[bridge]") {
    Fixture f;
    ServiceBridge bridge(f.router);
    TaskInput request;
    request.prompt = "wind";
    TaskResult generated;

    SECTION("missing audio") {
        const auto issues = bridge.validateHandoff(
            bridge.transferContext(HandoffKind::GenerationToAnalysis, "audioldm", request, generated));
        REQUIRE(hasIssue(issues, "missing-audio", HandoffIssue::Severity::Error));
        TaskQueue queue(TaskQueueConfig{}, f.router.runner());
        CHECK_THROWS_WITH(bridge.executeHandoff(bridge.transferContext(HandoffKind::GenerationToAnalysis, "audioldm",
                                                                       request, generated),
                                                queue),
                          Catch::Contains("cannot run") && Catch::Contains("carries no audio"));
    }
    SECTION("wrong sample rate without a resampler is an error naming both rates") {
        generated.audio = tone(1.0, 44100);
        const auto issues = bridge.validateHandoff(
            bridge.transferContext(HandoffKind::GenerationToAnalysis, "audioldm", request, generated));
        REQUIRE(hasIssue(issues, "sample-rate", HandoffIssue::Severity::Error));
        auto it = std::find_if(issues.begin(), issues.end(), [](const auto& i) { return i.code == "sample-rate"; });
        CHECK_THAT(it->message, Catch::Contains("44100 Hz") && Catch::Contains("16000 Hz"));
    }
    SECTION("duration out of range") {
        generated.audio = tone(0.05, 16000);
        CHECK(hasIssue(bridge.validateHandoff(bridge.transferContext(HandoffKind::GenerationToAnalysis, "audioldm",
                                                                     request, generated)),
                       "duration", HandoffIssue::Severity::Error));
        TaskInput clip;
        clip.audio = tone(45.0, 16000);
        const auto issues = bridge.validateHandoff(bridge.transferContext(
            HandoffKind::AnalysisToGeneration, "wav2vec2", clip, TaskResult{}, {{"prompt", "x"}}));
        REQUIRE(hasIssue(issues, "duration", HandoffIssue::Severity::Error));
    }
    SECTION("a failed target service is an error, an unloaded one a warning") {
        generated.audio = tone(1.0, 16000);
        f.analysis->setStatus(ServiceStatus::Failed);
        CHECK(hasIssue(bridge.validateHandoff(bridge.transferContext(HandoffKind::GenerationToAnalysis, "audioldm",
                                                                     request, generated)),
                       "service-failed", HandoffIssue::Severity::Error));
    }
    SECTION("a variation without a prompt") {
        TaskInput clip;
        clip.audio = tone(1.0, 16000);
        CHECK(hasIssue(bridge.validateHandoff(
                           bridge.transferContext(HandoffKind::AnalysisToGeneration, "wav2vec2", clip, TaskResult{})),
                       "missing-prompt", HandoffIssue::Severity::Error));
    }
    SECTION("no service of the target type") {
        ServiceRegistry onlyAnalysis;
        onlyAnalysis.add(std::make_shared<FakeService>("wav2vec2", TaskType::Analysis));
        TaskRouter router(onlyAnalysis);
        ServiceBridge lonely(router);
        TaskInput clip;
        clip.audio = tone(1.0, 16000);
        CHECK(hasIssue(lonely.validateHandoff(lonely.transferContext(HandoffKind::AnalysisToGeneration, "wav2vec2",
                                                                     clip, TaskResult{}, {{"prompt", "x"}})),
                       "no-service", HandoffIssue::Severity::Error));
    }
}

TEST_CASE("with a resampler, rate and channel mismatches are fixed while preparing the input", "[bridge]") {
    Fixture f;
    int resampled = 0;
    ServiceBridge bridge(f.router, [&](const AudioBuffer& in, int rate) {
        ++resampled;
        AudioBuffer out;
        out.sampleRate = rate;
        out.channels = in.channels;
        out.samples.assign(static_cast<size_t>(in.duration() * rate) * in.channels, 0.0f);
        return out;
    });
    TaskInput request;
    request.prompt = "birds";
    TaskResult generated;
    generated.audio = tone(1.0, 48000, 2);
    const HandoffContext c = bridge.transferContext(HandoffKind::GenerationToAnalysis, "audioldm", request, generated);
    const auto issues = bridge.validateHandoff(c);
    CHECK_FALSE(ServiceBridge::hasErrors(issues));
    CHECK(hasIssue(issues, "sample-rate", HandoffIssue::Severity::Warning));
    CHECK(hasIssue(issues, "channels", HandoffIssue::Severity::Warning));
    const TaskInput input = bridge.prepareInput(c);
    CHECK(resampled == 1);
    CHECK(input.audio->sampleRate == 16000);
    CHECK(input.audio->channels == 1);
    CHECK(input.audio->frames() == 16000);
}
