// Faults that lose nothing (issue 15): a full disk or a read-only folder while saving, a real
// allocation failure inside libtorch, and a model folder whose files are truncated or deleted
// while the model is loaded. In each case the error names the file or says what ran out, an
// existing file is never left truncated, and the other tasks and services go on.
#include "api/audio_api.h"
#include "api/installed_services.h"
#include "audio/audio_file.h"
#include "support/fake_services.h"
#include "platform/atomic_file.h"
#include "weights/safetensors_writer.h"

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace grym;
namespace fs = std::filesystem;

namespace {

// A fresh folder under the temp folder, removed afterwards.
struct ScratchFolder {
    fs::path path;
    ScratchFolder() {
        std::string pattern = (fs::temp_directory_path() / "grym-faults-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()));
        path = pattern;
    }
    ~ScratchFolder() {
        std::error_code ec;
        fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
        fs::remove_all(path, ec);
    }
};

// The disk "fills up" past `bytes`: RLIMIT_FSIZE makes every write beyond it fail with EFBIG,
// as ENOSPC would on a full disk, without needing a small file system or root.
class FileSizeLimit {
public:
    explicit FileSizeLimit(rlim_t bytes) {
        ::getrlimit(RLIMIT_FSIZE, &saved_);
        previousHandler_ = std::signal(SIGXFSZ, SIG_IGN);  // fail the write instead of killing the process
        rlimit limit = saved_;
        limit.rlim_cur = bytes;
        REQUIRE(::setrlimit(RLIMIT_FSIZE, &limit) == 0);
    }
    ~FileSizeLimit() {
        ::setrlimit(RLIMIT_FSIZE, &saved_);
        std::signal(SIGXFSZ, previousHandler_);
    }

private:
    rlimit saved_{};
    void (*previousHandler_)(int) = nullptr;
};

std::string readBytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

size_t filesIn(const fs::path& folder) {
    size_t n = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(folder)) ++n;
    return n;
}

AudioBuffer tone(double seconds) {
    AudioBuffer a;
    a.sampleRate = 16000;
    a.channels = 1;
    a.samples.resize(static_cast<size_t>(seconds * a.sampleRate));
    for (size_t i = 0; i < a.samples.size(); ++i) a.samples[i] = 0.25f * static_cast<float>(std::sin(0.05 * i));
    return a;
}

void writeText(const fs::path& path, const std::string& text) { writeFileAtomically(path, text.data(), text.size()); }

template <typename Fn>
std::string errorFrom(Fn&& fn) {
    try {
        fn();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "(no error)";
}

// A generation service whose run asks libtorch for far more memory than any machine has.
class GreedyGenerator : public test::FakeGenerationService {
public:
    TaskResult run(const TaskInput& input, const ProgressCallback& progress, const CancellationToken& cancel) override {
        if (input.prompt == "too much") {
            // 2^46 floats = 256 TiB: libtorch's CPU allocator fails and throws c10::Error.
            const torch::Tensor huge = torch::empty({int64_t{1} << 46}, torch::kFloat32);
            (void)huge;
        }
        return FakeGenerationService::run(input, progress, cancel);
    }
};

}  // namespace

TEST_CASE("a full disk while saving over a file leaves the old file whole and the error names the file",
          "[faults][atomic]") {
    ScratchFolder folder;
    const fs::path wav = folder.path / "take 1.wav";
    const fs::path streamed = folder.path / "streamed.safetensors";
    const fs::path json = folder.path / "report.json";
    saveAudioFile(wav.string(), tone(0.1));
    {
        SafetensorsWriter writer(streamed.string(), {{"w", torch::kFloat32, {16}}});
        writer.write(torch::ones({16}));
        writer.finish();
    }
    writeText(json, "{\"old\": true}\n");
    const std::string oldWav = readBytes(wav), oldStreamed = readBytes(streamed);
    const size_t files = filesIn(folder.path);

    {
        const FileSizeLimit diskFull(64 * 1024);
        CHECK_THAT(errorFrom([&] { saveAudioFile(wav.string(), tone(10.0)); }),
                   Catch::Contains(wav.string()) && Catch::Contains("cannot save"));
        CHECK_THAT(errorFrom([&] {
                       SafetensorsWriter writer(streamed.string(), {{"w", torch::kFloat32, {1 << 20}}});
                       writer.write(torch::ones({1 << 20}));
                       writer.finish();
                   }),
                   Catch::Contains(streamed.string()));
        // The platform helper says which step failed; its callers add the file's name.
        CHECK_THAT(errorFrom([&] { writeText(json, std::string(1 << 20, ' ')); }), Catch::Contains("File too large"));
    }
    CHECK(readBytes(wav) == oldWav);
    CHECK(readBytes(streamed) == oldStreamed);
    CHECK(readBytes(json) == "{\"old\": true}\n");
    CHECK(filesIn(folder.path) == files);  // no temporary files left behind
    // With room again, the same saves go through.
    saveAudioFile(wav.string(), tone(1.0));
    CHECK(loadAudioFile(wav.string()).frames() == 16000);
}

TEST_CASE("saving into a read-only or missing folder names the file and leaves nothing behind", "[faults][atomic]") {
    ScratchFolder folder;
    CHECK_THAT(errorFrom([&] { saveAudioFile((folder.path / "no such folder" / "a.wav").string(), tone(0.1)); }),
               Catch::Contains("a.wav") && Catch::Contains("does not exist"));
    const fs::path locked = folder.path / "locked";
    fs::create_directories(locked);
    saveAudioFile((locked / "keep.wav").string(), tone(0.1));
    const std::string kept = readBytes(locked / "keep.wav");
    fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec, fs::perm_options::replace);
    if (::geteuid() == 0) {
        WARN("running as root: permissions do not stop root, so the read-only folder case is not checked here");
    } else {
        CHECK_THAT(errorFrom([&] { saveAudioFile((locked / "keep.wav").string(), tone(0.5)); }),
                   Catch::Contains("keep.wav") && Catch::Contains("Permission denied"));
        CHECK_THAT(errorFrom([&] { writeText(locked / "new.json", "{}"); }), Catch::Contains("Permission denied"));
    }
    fs::permissions(locked, fs::perms::owner_all, fs::perm_options::replace);
    CHECK(readBytes(locked / "keep.wav") == kept);
    CHECK(filesIn(locked) == 1);
}

TEST_CASE("a generation that exhausts libtorch's allocator fails alone with an out-of-memory message",
          "[faults][memory]") {
    AudioApiConfig config;
    config.sampleMemory = false;
    config.limits.minGenerateSeconds = 0.01;
    AudioApi api(config);
    api.addService(std::make_shared<GreedyGenerator>());
    api.addService(std::make_shared<test::FakeAnalysisService>());
    GenerateRequest greedy;
    greedy.prompt = "too much";
    greedy.durationSeconds = 0.05;
    greedy.steps = 1;
    auto failed = api.generateAudio(greedy);
    auto analysed = api.analyzeAudio(tone(0.5));
    GenerateRequest modest = greedy;
    modest.prompt = "a modest request";
    auto next = api.generateAudio(modest);

    REQUIRE(failed.wait() == TaskState::Failed);
    CHECK_THAT(failed.status().error, Catch::Contains("ran out of memory") && Catch::Contains("can't allocate memory"));
    CHECK(analysed.wait() == TaskState::Succeeded);
    CHECK(next.wait() == TaskState::Succeeded);
    CHECK(api.getServiceStatus().contains("audioldm"));
}

TEST_CASE("a model folder truncated and deleted while loaded: the loaded model goes on, a reload names the file",
          "[faults][model]") {
    ScratchFolder folder;
    const fs::path model = folder.path / "wav2vec2";
    fs::copy(std::string(GRYM_TEST_DATA_DIR) + "/golden/wav2vec2_base", model, fs::copy_options::recursive);
    AudioApiConfig config;
    config.sampleMemory = false;
    AudioApi api(config);
    ModelLocations locations;
    locations.root = folder.path.string();
    locations.wav2vec2 = model.string();
    addInstalledServices(api, locations);

    auto first = api.analyzeAudio(tone(1.0));
    REQUIRE(first.wait() == TaskState::Succeeded);
    REQUIRE(first.result().get().data["features"].contains("wav2vec2"));

    // The weights file is cut short (a sync tool rewriting it, a full disk) and config.json vanishes.
    fs::resize_file(model / "model.safetensors", 100);
    fs::remove(model / "config.json");
    auto whileLoaded = api.analyzeAudio(tone(1.0));
    REQUIRE(whileLoaded.wait() == TaskState::Succeeded);
    CHECK(whileLoaded.result().get().data["features"].contains("wav2vec2"));

    // Loading again from the damaged folder fails with the file named; other work goes on.
    api.unloadService("wav2vec2");
    auto reload = api.analyzeAudio(tone(1.0));
    reload.wait();
    const std::string outcome =
        reload.state() == TaskState::Failed ? reload.status().error : api.getServiceStatus()["wav2vec2"].dump();
    CHECK_THAT(outcome, Catch::Contains("config.json") || Catch::Contains("model.safetensors"));
    CHECK(api.getServiceStatus().is_object());
}
