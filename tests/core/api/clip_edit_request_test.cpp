// The request side of longer clips, inpainting and loops: ranges, limits and the AudioApi calls.
#include "api/api_requests.h"
#include "api/audio_api.h"
#include "support/fake_services.h"

#include <catch2/catch.hpp>

using namespace grym;

namespace {

AudioBuffer silence(double seconds) {
    AudioBuffer a;
    a.sampleRate = 16000;
    a.channels = 1;
    a.samples.assign(static_cast<size_t>(seconds * a.sampleRate), 0.0f);
    return a;
}

std::string fieldOf(const std::function<void()>& call) {
    try {
        call();
    } catch (const FieldError& e) {
        return e.field();
    }
    return "(nothing thrown)";
}

}  // namespace

TEST_CASE("a clip range reads START:END in seconds and refuses anything else by name", "[api][edit]") {
    const auto range = parseClipRange("2.0:3.5");
    CHECK(range.startSeconds == 2.0);
    CHECK(range.endSeconds == 3.5);
    CHECK(parseClipRange("0:.25").endSeconds == 0.25);
    for (const char* bad : {"", "2.0", "3:2", "1:1", "-1:2", "a:b", "1:2:3", "1:inf"})
        CHECK(fieldOf([&] { parseClipRange(bad); }) == "range");
    CHECK(fieldOf([] { parseClipRange("x", "--range"); }) == "--range");
    CHECK_NOTHROW(validate(range, 4.0));
    CHECK(fieldOf([&] { validate(range, 3.0); }) == "range");
}

TEST_CASE("generate requests take a loop flag and up to 60 seconds", "[api][edit]") {
    const ApiLimits limits;
    CHECK(limits.maxGenerateSeconds >= 60.0);
    auto r = parseGenerateRequest({{"prompt", "a groove"}, {"loop", true}, {"duration", 60}}, limits);
    CHECK(r.loop);
    CHECK(toTaskParameters(r)["loop"] == true);
    CHECK_FALSE(toTaskParameters(parseGenerateRequest({{"prompt", "a groove"}}, limits)).contains("loop"));
    CHECK(fieldOf([&] { parseGenerateRequest({{"prompt", "x"}, {"duration", 61}}, limits); }) == "duration");
    CHECK(fieldOf([&] { parseGenerateRequest({{"prompt", "x"}, {"loop", "yes"}}, limits); }) == "loop");
}

TEST_CASE("AudioApi inpaints and continues clips as generation tasks that carry the edit", "[api][edit]") {
    AudioApiConfig config;
    config.sampleMemory = false;
    AudioApi api(config);
    api.addService(std::make_shared<test::FakeGenerationService>());
    GenerateRequest request;
    request.prompt = "a door";
    request.steps = 2;
    const auto clip = silence(2.0);

    auto inpaint = api.inpaintClip(clip, request, {0.5, 1.0});
    inpaint.result().get();
    const auto record = api.task(inpaint.id());
    REQUIRE(record);
    CHECK(record->kind == "inpaint");
    CHECK(record->request["range_start"] == 0.5);
    CHECK(record->request["range_end"] == 1.0);

    request.durationSeconds = 1.5;
    auto more = api.continueClip(clip, request);
    more.result().get();
    CHECK(api.task(more.id())->kind == "continue");

    CHECK(fieldOf([&] { api.inpaintClip(clip, request, {1.5, 2.5}); }) == "range");
    CHECK(fieldOf([&] { api.continueClip(AudioBuffer{}, request); }) == "clip");
    request.loop = true;
    CHECK(fieldOf([&] { api.continueClip(clip, request); }) == "loop");
}
