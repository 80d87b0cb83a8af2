// GET /v1/tasks/{id}/export: a finished clip as a file for other tools (trim, fades, loudness,
// five formats) through the same export as the CLI and the app, over a loopback server with the
// fake services. Every answer is decoded back and measured.
#include "api/api_requests.h"
#include "api/audio_api.h"
#include "api/clip_provenance.h"
#include "api/http_server.h"
#include "audio/audio_file.h"
#include "core/audio/loudness_meter.h"
#include "core/audio/signals.h"
#include "support/loopback_api.h"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <thread>

using namespace grym;

namespace {

nlohmann::json jsonOf(const httplib::Result& r) { return nlohmann::json::parse(r->body); }

// Starts a generation and waits until it has finished; returns its id.
uint64_t generateAndWait(httplib::Client& c, const std::string& request) {
    auto r = c.Post("/v1/generate", request, "application/json");
    REQUIRE(r);
    REQUIRE(r->status == 202);
    const uint64_t id = jsonOf(r)["id"];
    for (int i = 0; i < 2000; ++i) {
        auto t = c.Get(("/v1/tasks/" + std::to_string(id)).c_str());
        REQUIRE(t);
        if (jsonOf(t)["state"] == "succeeded") return id;
        REQUIRE(jsonOf(t)["state"] != "failed");
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    FAIL("the generation did not finish");
    return 0;
}

std::string exportUrl(uint64_t id, const std::string& query) {
    return "/v1/tasks/" + std::to_string(id) + "/export" + (query.empty() ? "" : "?" + query);
}

AudioBuffer decoded(const httplib::Result& r, const std::string& name, AudioFileInfo* info = nullptr) {
    return decodeAudioBytes(r->body, name, {}, info);
}

float peakOf(const AudioBuffer& audio, int64_t from, int64_t to) {
    float peak = 0.0f;
    for (int64_t f = from; f < to; ++f) peak = std::max(peak, std::fabs(audio.samples[static_cast<size_t>(f)]));
    return peak;
}

}  // namespace

TEST_CASE("HTTP export: trim, fades and loudness of a finished clip, decoded back from the answer", "[http][export]") {
    test::LoopbackApi f;
    auto c = f.client();
    const uint64_t id = generateAndWait(c, R"({"prompt":"A bell, far away!","duration":2.0,"steps":2,"seed":1})");
    auto original = c.Get(("/v1/tasks/" + std::to_string(id) + "/audio?format=wav").c_str());
    REQUIRE(original);
    REQUIRE(original->status == 200);
    const AudioBuffer source = decoded(original, "source.wav");
    REQUIRE(source.sampleRate == 16000);
    REQUIRE(source.frames() == 32000);

    SECTION("trim and fades: one second from 0.5 s, rising from and falling to silence") {
        auto r = c.Get(exportUrl(id, "format=wavf&start=0.5&end=1.5&fade_in=0.1&fade_out=0.2").c_str());
        REQUIRE(r);
        REQUIRE(r->status == 200);
        CHECK(r->get_header_value("Content-Type") == "audio/wav");
        CHECK(r->get_header_value("Content-Disposition") ==
              "attachment; filename=\"a-bell-far-away-" + std::to_string(id) + ".wav\"");
        CHECK(r->get_header_value("X-Export-Duration") == "1");
        CHECK_FALSE(r->has_header("X-Export-Gain-dB"));
        const AudioBuffer out = decoded(r, "trimmed.wav");
        REQUIRE(out.frames() == 16000);
        // The fades start and end in silence: the first and last 16 samples (1 ms) are near zero,
        // while the clip itself is a 0.5 sine there.
        CHECK(peakOf(out, 0, 16) < 0.005f);
        CHECK(peakOf(out, out.frames() - 16, out.frames()) < 0.005f);
        CHECK(peakOf(source, 8000, 8016) > 0.05f);
        // Between the fades the samples are the source's from 0.5 s on, unchanged.
        double worst = 0.0;
        for (int64_t frame = 1600; frame < 16000 - 3200; ++frame)
            worst = std::max(worst, static_cast<double>(std::fabs(out.samples[frame] - source.samples[frame + 8000])));
        CHECK(worst < 1e-6);
        // Half-way through the fade-in the gain is one half.
        const auto halfway = static_cast<size_t>(800);
        CHECK(out.samples[halfway] == Approx(0.5 * source.samples[halfway + 8000]).margin(1e-3));
    }

    SECTION("loudness: normalised to the target within 0.5 LU as libebur128 measures the file") {
        for (const double target : {-23.0, -16.0}) {
            CAPTURE(target);
            auto r = c.Get(exportUrl(id, "format=wav24&lufs=" + std::to_string(target)).c_str());
            REQUIRE(r);
            REQUIRE(r->status == 200);
            const AudioBuffer out = decoded(r, "loud.wav");
            CHECK(out.frames() == source.frames());
            CHECK(std::abs(test::measureLufs(out) - target) <= 0.5);
            const double before = test::measureLufs(source);
            CHECK(std::stod(r->get_header_value("X-Export-Loudness-Before")) == Approx(before).margin(0.01));
            CHECK(std::stod(r->get_header_value("X-Export-Gain-dB")) == Approx(target - before).margin(0.01));
            CHECK(r->get_header_value("X-Export-Clipped") == "false");
        }
    }

    SECTION("the file carries the clip's settings, like the audio download") {
        auto r = c.Get(exportUrl(id, "format=flac&start=1").c_str());
        REQUIRE(r);
        REQUIRE(r->status == 200);
        test::ScratchDir dir("grym_http_export");
        const std::string path = dir.file("export.flac");
        std::ofstream(path, std::ios::binary) << r->body;
        const auto settings = readProvenance(path);
        REQUIRE(settings);
        CHECK(settings->prompt == "A bell, far away!");
        CHECK(settings->seed == 1);
    }
}

TEST_CASE("HTTP export: each format answers with its Content-Type, file header, encoding and file name", "[http][export]") {
    test::LoopbackApi f;
    auto c = f.client();
    const uint64_t id = generateAndWait(c, R"({"prompt":"hum","duration":0.5,"steps":1,"seed":2})");
    struct Case {
        const char* format;
        const char* contentType;
        const char* magic;
        const char* container;
        const char* encoding;
        const char* extension;
    };
    for (const Case& k : {Case{"wav16", "audio/wav", "RIFF", "WAV", "PCM 16-bit", ".wav"},
                          Case{"wav24", "audio/wav", "RIFF", "WAV", "PCM 24-bit", ".wav"},
                          Case{"wavf", "audio/wav", "RIFF", "WAV", "float 32-bit", ".wav"},
                          Case{"flac", "audio/flac", "fLaC", "FLAC", "PCM 24-bit", ".flac"},
                          Case{"ogg", "audio/ogg", "OggS", "OGG", "Vorbis", ".ogg"}}) {
        CAPTURE(k.format);
        auto r = c.Get(exportUrl(id, std::string("format=") + k.format).c_str());
        REQUIRE(r);
        REQUIRE(r->status == 200);
        CHECK(r->get_header_value("Content-Type") == k.contentType);
        CHECK(r->body.compare(0, 4, k.magic) == 0);
        CHECK(r->get_header_value("Content-Disposition") ==
              "attachment; filename=\"hum-" + std::to_string(id) + k.extension + "\"");
        AudioFileInfo info;
        const AudioBuffer out = decoded(r, std::string("x") + k.extension, &info);
        CHECK(info.container == k.container);
        CHECK(info.encoding == k.encoding);
        CHECK(out.sampleRate == 16000);
        CHECK(out.frames() == 8000);
    }
    // No format: WAV 24-bit, as for a .wav name on the command line.
    auto plain = c.Get(exportUrl(id, "").c_str());
    REQUIRE(plain);
    REQUIRE(plain->status == 200);
    AudioFileInfo info;
    decoded(plain, "plain.wav", &info);
    CHECK(info.encoding == "PCM 24-bit");
    CHECK(openApiDocument()["paths"].contains("/v1/tasks/{id}/export"));
}

TEST_CASE("HTTP export: refusals name the parameter; an unknown task is 404 and an unfinished one 409",
          "[http][export]") {
    test::LoopbackApi f({}, 20);
    auto c = f.client();
    const uint64_t id = generateAndWait(c, R"({"prompt":"hum","duration":1.0,"steps":1,"seed":2})");
    auto expect = [&](const std::string& url, int status, const std::string& field, const std::string& says) {
        CAPTURE(url);
        auto r = c.Get(url.c_str());
        REQUIRE(r);
        CHECK(r->status == status);
        CHECK_THAT(r->get_header_value("Content-Type"), Catch::StartsWith("application/json"));
        const auto error = jsonOf(r)["error"];
        CHECK(error["field"] == field);
        CHECK_THAT(error["message"].get<std::string>(), Catch::Contains(says));
    };
    expect(exportUrl(id, "format=mp3"), 400, "format", "wav16, wav24, wavf, flac, ogg");
    expect(exportUrl(id, "start=soon"), 400, "start", "\"soon\"");
    expect(exportUrl(id, "end=inf"), 400, "end", "a time in seconds");
    expect(exportUrl(id, "lufs=loud"), 400, "lufs", "LUFS");
    expect(exportUrl(id, "fadein=1"), 400, "fadein", "not a known export parameter");
    expect(exportUrl(id, "start=0.1&start=0.2"), 400, "start", "more than once");
    expect(exportUrl(id, "start=2"), 400, "start", "trim start 2 s is not before the clip's end");
    expect(exportUrl(id, "start=0.5&end=0.25"), 400, "end", "not after trim start");
    expect(exportUrl(id, "end=3"), 400, "end", "past the clip's end");
    expect(exportUrl(id, "fade_in=-1"), 400, "fade_in", "fade-in -1 s");
    expect(exportUrl(id, "fade_out=-0.5"), 400, "fade_out", "fade-out -0.5 s");
    expect(exportUrl(id, "fade_in=0.6&fade_out=0.6"), 400, "fade_out", "together are longer");
    expect(exportUrl(id, "fade_in=1.5"), 400, "fade_in", "together are longer");
    expect(exportUrl(id, "lufs=5"), 400, "lufs", "-70..0 LUFS");
    expect(exportUrl(999999, ""), 404, "id", "no task 999999");
    expect("/v1/tasks/abc/export", 400, "id", "number");

    // An empty parameter (a blank form field) counts as not given.
    auto blank = c.Get(exportUrl(id, "format=flac&start=&end=&fade_in=&fade_out=&lufs=").c_str());
    REQUIRE(blank);
    CHECK(blank->status == 200);

    // A task still running, or cancelled, has no clip to export yet; an analysis has none at all.
    auto slow = c.Post("/v1/generate", R"({"prompt":"slow","steps":400,"duration":0.1})", "application/json");
    REQUIRE(slow);
    const uint64_t running = jsonOf(slow)["id"];
    expect(exportUrl(running, "format=flac"), 409, "id", "not succeeded");
    c.Delete(("/v1/tasks/" + std::to_string(running)).c_str());
    AudioBuffer tone;
    tone.sampleRate = 16000;
    tone.channels = 1;
    tone.samples.assign(8000, 0.1f);
    const TaskHandle analysis = f.api.analyzeAudio(tone);
    analysis.result().get();
    expect(exportUrl(analysis.id(), ""), 409, "id", "made no audio");
}

TEST_CASE("HTTP export: needs the token when the server has one", "[http][export]") {
    HttpServerConfig config;
    config.token = "export-token";
    test::LoopbackApi f(config);
    auto c = f.client();
    c.set_bearer_token_auth("export-token");
    const uint64_t id = generateAndWait(c, R"({"prompt":"hum","duration":0.5,"steps":1})");
    httplib::Client stranger("127.0.0.1", f.port);
    auto refused = stranger.Get(exportUrl(id, "format=flac").c_str());
    REQUIRE(refused);
    CHECK(refused->status == 401);
    auto allowed = c.Get(exportUrl(id, "format=flac").c_str());
    REQUIRE(allowed);
    CHECK(allowed->status == 200);
}
