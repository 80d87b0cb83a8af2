// `grym-synth-cli generate "PROMPT" -o OUT.wav [options]`: text-to-audio (or a variation of a
// clip) with the AudioLDM service, submitted through AudioApi like every other front end.
#include "cli/commands.h"
#include "cli/runtime_options.h"

#include "api/audio_api.h"
#include "audio/audio_file.h"
#include "common/error.h"
#include "models/audioldm/audioldm_service.h"

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace grym::cli {

namespace {

const char* kUsage =
    "usage: grym-synth-cli generate \"PROMPT\" -o OUT.wav [options]\n"
    "  --model DIR            diffusers AudioLDM folder (default: $GRYM_AUDIOLDM_MODEL)\n"
    "  --steps N              denoising steps (default 10)\n"
    "  --guidance G           classifier-free guidance scale (default 2.5; <= 1 disables it)\n"
    "  --seed S               random seed (default: drawn and printed)\n"
    "  --duration SEC         length in seconds (default 5.12)\n"
    "  --negative TEXT        negative prompt\n"
    "  --scheduler ddim|dpm++ sampler (default ddim)\n"
    "  --device cpu|cuda      (default cpu)\n"
    "  --precision fp32|fp16|bf16|int8|int4   (default fp32)\n"
    "  --variations N         clips to generate with seeds S, S+1, ... (OUT_1.wav, OUT_2.wav, ...)\n"
    "  --latents FILE.safetensors [--latents-key NAME]   starting latents instead of seeded noise\n"
    "  --input AUDIO [--strength S]   audio-to-audio variation of a clip (strength 0..1, default 0.6)\n"
    "  --sample-rate HZ       16000 (the model's rate), 44100 or 48000\n"
    "  --bits 16|24|32        WAV sample format (default 32: float, exactly what the model produced)\n"
    "  --quiet                no progress bar\n";

struct GenerateOptions {
    GenerateRequest request;
    std::string output, model, input;
    ComputeDevice device = ComputeDevice::Cpu;
    Precision precision = Precision::Fp32;
    double strength = 0.6;
    int bits = 32;
    bool quiet = false;
};

[[noreturn]] void usageError(const std::string& message) { throw ApiError(message); }

double parseNumber(const std::string& option, const std::string& value) {
    try {
        size_t used = 0;
        const double v = std::stod(value, &used);
        if (used == value.size() && std::isfinite(v)) return v;
    } catch (const std::exception&) {
    }
    usageError(option + " expects a number, got '" + value + "'");
}

int64_t parseInteger(const std::string& option, const std::string& value) {
    const double v = parseNumber(option, value);
    if (v != std::floor(v) || std::abs(v) > 9.0e15) usageError(option + " expects a whole number, got '" + value + "'");
    return static_cast<int64_t>(v);
}

GenerateOptions parseArgs(const Args& args) {
    GenerateOptions o;
    o.request.durationSeconds = 5.12;  // AudioLDM's own default length
    if (const char* env = std::getenv("GRYM_AUDIOLDM_MODEL")) o.model = env;
    bool promptSeen = false;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&]() -> const std::string& {
            if (i + 1 >= args.size()) usageError(a + " needs a value");
            return args[++i];
        };
        if (a == "-o" || a == "--output") o.output = value();
        else if (a == "--model") o.model = value();
        else if (a == "--steps") o.request.steps = static_cast<int>(parseInteger(a, value()));
        else if (a == "--guidance") o.request.guidanceScale = parseNumber(a, value());
        else if (a == "--seed") o.request.seed = parseInteger(a, value());
        else if (a == "--duration") o.request.durationSeconds = parseNumber(a, value());
        else if (a == "--negative") o.request.negativePrompt = value();
        else if (a == "--scheduler") {
            o.request.scheduler = value();
            if (o.request.scheduler == "dpm" || o.request.scheduler == "dpmsolver++") o.request.scheduler = "dpm++";
        } else if (a == "--device") {
            const auto& d = value();
            if (d == "cpu") o.device = ComputeDevice::Cpu;
            else if (d == "cuda") o.device = ComputeDevice::Cuda;
            else usageError("--device must be cpu or cuda, got '" + d + "'");
        } else if (a == "--precision") {
            try {
                o.precision = parsePrecisionName(value());
            } catch (const UsageError& e) {
                usageError(e.what());
            }
        }
        else if (a == "--variations") o.request.variations = static_cast<int>(parseInteger(a, value()));
        else if (a == "--latents") o.request.latentsFile = value();
        else if (a == "--latents-key") o.request.latentsKey = value();
        else if (a == "--input") o.input = value();
        else if (a == "--strength") o.strength = parseNumber(a, value());
        else if (a == "--sample-rate") o.request.outputSampleRate = static_cast<int>(parseInteger(a, value()));
        else if (a == "--bits") o.bits = static_cast<int>(parseInteger(a, value()));
        else if (a == "--quiet" || a == "-q") o.quiet = true;
        else if (a == "--help" || a == "-h") usageError("");
        else if (!a.empty() && a[0] == '-') usageError("unknown option '" + a + "'");
        else if (!promptSeen) {
            o.request.prompt = a;
            promptSeen = true;
        } else usageError("unexpected argument '" + a + "' (quote the prompt)");
    }
    if (!promptSeen) usageError("missing the prompt");
    if (o.output.empty()) usageError("missing -o OUT.wav");
    if (o.model.empty()) usageError("missing --model DIR (or set GRYM_AUDIOLDM_MODEL)");
    if (o.bits != 16 && o.bits != 24 && o.bits != 32) usageError("--bits must be 16, 24 or 32");
    if (!o.input.empty() && !o.request.latentsFile.empty()) usageError("--input and --latents cannot be combined");
    return o;
}

std::string variationPath(const std::string& output, int index, int count) {
    if (count == 1) return output;
    std::filesystem::path p(output);
    return (p.parent_path() / (p.stem().string() + "_" + std::to_string(index + 1) + p.extension().string())).string();
}

void drawProgress(const ProgressUpdate& u, const std::string& prefix) {
    constexpr int kWidth = 30;
    const int filled = std::clamp(static_cast<int>(u.fraction * kWidth + 0.5), 0, kWidth);
    std::ostringstream line;
    line << "\r" << prefix << "[" << std::string(filled, '#') << std::string(kWidth - filled, '-') << "] "
         << std::setw(3) << static_cast<int>(u.fraction * 100 + 0.5) << "% " << u.stage;
    if (u.totalSteps > 0 && u.stage == "denoising") line << " " << u.step << "/" << u.totalSteps;
    if (u.secondsRemaining >= 0) line << "  ~" << std::fixed << std::setprecision(1) << u.secondsRemaining << " s left";
    line << "      ";
    std::cerr << line.str() << std::flush;
}

// Ctrl-C asks the running task to stop at its next step instead of killing the process mid-write.
std::atomic<bool> interruptRequested{false};
extern "C" void onInterrupt(int) { interruptRequested.store(true); }

// Waits for a task, cancelling it on Ctrl-C. Returns the result or throws the task's error.
TaskResult awaitTask(TaskHandle handle) {
    while (!handle.waitFor(std::chrono::milliseconds(100)))
        if (interruptRequested.load()) handle.cancel();
    return handle.result().get();
}

}  // namespace

int runGenerate(const Args& args) {
    GenerateOptions o;
    try {
        o = parseArgs(args);
    } catch (const ApiError& e) {
        if (*e.what()) std::cerr << "generate: " << e.what() << "\n";
        std::cerr << kUsage;
        return 2;
    }

    AudioApiConfig config;
    config.queue.workerCount = 1;
    AudioApi api(config);
    audioldm::AudioLdmServiceOptions serviceOptions;
    serviceOptions.modelPath = o.model;
    serviceOptions.device = o.device;
    serviceOptions.precision = o.precision;
    auto service = std::make_shared<audioldm::AudioLdmService>(serviceOptions);
    api.addService(service);

    std::optional<AudioBuffer> clip;
    if (!o.input.empty()) clip = loadAudioFile(o.input);
    if (!o.quiet) std::cerr << "loading " << o.model << " ...\n";
    service->load();  // up front, so a broken folder is reported before any work is queued

    const auto previousHandler = std::signal(SIGINT, onInterrupt);
    struct RestoreHandler {
        decltype(previousHandler) handler;
        ~RestoreHandler() { std::signal(SIGINT, handler); }
    } restore{previousHandler};

    SaveOptions save;
    save.encoding = o.bits == 16 ? SampleEncoding::Pcm16 : o.bits == 24 ? SampleEncoding::Pcm24 : SampleEncoding::Float32;
    const int count = o.request.variations;
    GenerateRequest one = o.request;
    one.variations = 1;
    for (int i = 0; i < count; ++i) {
        if (o.request.seed) one.seed = *o.request.seed + i;
        const std::string prefix = count > 1 ? "(" + std::to_string(i + 1) + "/" + std::to_string(count) + ") " : "";
        TaskCallbacks callbacks;
        if (!o.quiet) callbacks.onProgress = [prefix](TaskId, const ProgressUpdate& u) { drawProgress(u, prefix); };
        TaskHandle handle = clip ? api.generateVariation(*clip, one, o.strength, nlohmann::json::object(), callbacks)
                                 : api.generateAudio(one, callbacks);
        TaskResult result;
        try {
            result = awaitTask(handle);
        } catch (const TaskCancelledError&) {
            if (!o.quiet) std::cerr << "\n";
            std::cerr << "generate: cancelled\n";
            return 130;
        }
        if (!o.quiet) std::cerr << "\n";
        if (!result.audio) throw TaskError("the generation service returned no audio");
        const auto path = variationPath(o.output, i, count);
        saveAudioFile(path, *result.audio, save);
        std::cout << "wrote " << path << " (" << std::fixed << std::setprecision(2) << result.audio->duration()
                  << " s, " << result.audio->sampleRate << " Hz, seed " << result.data.value("seed", uint64_t{0})
                  << ", " << result.metrics.value("generation_seconds", 0.0) << " s)\n";
        if (i == 0 && result.data.value("random_weights", false))
            std::cout << "note: the model has random weights; the audio is noise, not the prompt\n";
    }
    return 0;
}

}  // namespace grym::cli
