// `grym-synth-cli generate "PROMPT" -o OUT.wav [options]`: text-to-audio (or a variation of a
// clip) with the AudioLDM service, submitted through AudioApi like every other front end.
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/shared_options.h"
#include "cli/typed_options.h"

#include "api/audio_api.h"
#include "api/clip_provenance.h"
#include "audio/audio_file.h"
#include "common/error.h"
#include "models/audioldm/audioldm_service.h"

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cctype>
#include <optional>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <limits>
#include <memory>
#include <sstream>

namespace grym::cli {

namespace {

struct GenerateOptions {
    GenerateRequest request;
    std::string output, model, input;
    std::string settingsFrom;  // a clip whose embedded settings are the starting point
    std::string inpaintFile, continueFile;
    std::optional<ClipRange> range;
    ComputeDevice device = ComputeDevice::Cpu;
    Precision precision = Precision::Fp32;
    double strength = 0.6;
    std::optional<int> bits;  // default: 32 (float) for WAV, 24 for FLAC, which cannot hold float
    bool quiet = false;

    GenerateOptions() { request.durationSeconds = 5.12; }  // AudioLDM's own default length
};

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

int runGenerate(const GenerateOptions& o) {
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
    const std::string& clipFile = !o.inpaintFile.empty() ? o.inpaintFile : !o.continueFile.empty() ? o.continueFile : o.input;
    if (!clipFile.empty()) clip = loadAudioFile(clipFile);
    if (!o.inpaintFile.empty()) validate(*o.range, clip->duration());  // before the model loads
    if (!o.quiet) std::cerr << "loading " << o.model << " ...\n";
    service->load();  // up front, so a broken folder is reported before any work is queued

    const auto previousHandler = std::signal(SIGINT, onInterrupt);
    struct RestoreHandler {
        decltype(previousHandler) handler;
        ~RestoreHandler() { std::signal(SIGINT, handler); }
    } restore{previousHandler};

    SaveOptions save;
    const int bits = o.bits.value_or(audioFileFormatForPath(o.output) == AudioFileFormat::Flac ? 24 : 32);
    save.encoding = bits == 16 ? SampleEncoding::Pcm16 : bits == 24 ? SampleEncoding::Pcm24 : SampleEncoding::Float32;
    const int count = o.request.variations;
    GenerateRequest one = o.request;
    one.variations = 1;
    for (int i = 0; i < count; ++i) {
        if (o.request.seed) one.seed = *o.request.seed + i;
        const std::string prefix = count > 1 ? "(" + std::to_string(i + 1) + "/" + std::to_string(count) + ") " : "";
        TaskCallbacks callbacks;
        if (!o.quiet) callbacks.onProgress = [prefix](TaskId, const ProgressUpdate& u) { drawProgress(u, prefix); };
        TaskHandle handle = !o.inpaintFile.empty()  ? api.inpaintClip(*clip, one, *o.range, callbacks)
                            : !o.continueFile.empty() ? api.continueClip(*clip, one, callbacks)
                            : clip                    ? api.generateVariation(*clip, one, o.strength, nlohmann::json::object(), callbacks)
                                                      : api.generateAudio(one, callbacks);
        TaskResult result;
        try {
            result = awaitTask(handle);
        } catch (const TaskCancelled&) {
            if (!o.quiet) std::cerr << "\n";
            std::cerr << "generate: cancelled\n";
            return 130;
        }
        if (!o.quiet) std::cerr << "\n";
        if (!result.audio) throw TaskError("the generation service returned no audio");
        const auto path = variationPath(o.output, i, count);
        if (const auto provenance = provenanceOf(result)) save.metadata = toAudioMetadata(*provenance);
        saveAudioFile(path, *result.audio, save);
        std::cout << "wrote " << path << " (" << std::fixed << std::setprecision(2) << result.audio->duration()
                  << " s, " << result.audio->sampleRate << " Hz, seed " << result.data.value("seed", uint64_t{0})
                  << ", " << result.metrics.value("generation_seconds", 0.0) << " s)\n";
        if (result.metrics.contains("loop_point"))
            std::cout << "loop point: sample jump " << std::setprecision(2)
                      << result.metrics["loop_point"].value("sample_jump_ratio", 0.0) << "x, spectral flux "
                      << result.metrics["loop_point"].value("spectral_flux_ratio", 0.0)
                      << "x the clip's typical frame-to-frame change\n";
        if (i == 0 && result.data.value("random_weights", false))
            std::cout << "note: the model has random weights; the audio is noise, not the prompt\n";
    }
    return 0;
}

}  // namespace

void addGenerateCommand(CommandLine& commandLine) {
    auto [command, o] = commandLine.addCommand<GenerateOptions>(
        commandLine.program(), "generate", "text-to-audio (or a variation of a clip) with AudioLDM", runGenerate);
    CLI::Option* prompt =
        command.add_option("PROMPT", o.request.prompt, "what to hear (quote it; default with --from: the clip's)")
            ->type_name("");
    CLI::Option* from = addTextOption(command, "--from", o.settingsFrom,
                                      "start from the settings embedded in a clip grym-synth made (prompt, seed, "
                                      "steps, ...; its model folder when --model is not given); options given "
                                      "here override them",
                                      "AUDIO_FILE");
    addTextOption(command, "-o,--output", o.output,
                  "WAV file to write (OUT_1.wav, OUT_2.wav, ... with --variations)", "OUT.wav")
        ->required();
    addModelOption(command, o.model, "diffusers AudioLDM folder (required; default: $GRYM_AUDIOLDM_MODEL)")
        ->envname("GRYM_AUDIOLDM_MODEL");
    addWholeNumberOption(command, "--steps", o.request.steps,
                         "denoising steps" + defaultNote(o.request.steps));
    addNumberOption(command, "--guidance", o.request.guidanceScale,
                    "classifier-free guidance scale (<= 1 disables it)" + defaultNote(o.request.guidanceScale),
                    "G");
    addWholeNumberOption(command, "--seed", o.request.seed, "random seed (default: drawn and printed)",
                         std::numeric_limits<int64_t>::min(), "S");
    addNumberOption(command, "--duration", o.request.durationSeconds,
                    "length in seconds" + defaultNote(o.request.durationSeconds), "SECONDS");
    addTextOption(command, "--negative", o.request.negativePrompt, "negative prompt");
    addChoiceOption<std::string>(command, "--scheduler", o.request.scheduler,
                                 {{"ddim", "ddim"}, {"dpm++", "dpm++"}, {"dpm", "dpm++", false},
                                  {"dpmsolver++", "dpm++", false}},
                                 "sampler (default " + o.request.scheduler + ")");
    addDeviceOption(command, o.device);
    addPrecisionOption(command, o.precision);
    addWholeNumberOption(command, "--variations", o.request.variations,
                         "clips to generate with seeds S, S+1, ... (OUT_1.wav, OUT_2.wav, ...)", 1);
    CLI::Option* steps = command.get_option("--steps");
    CLI::Option* guidance = command.get_option("--guidance");
    CLI::Option* seed = command.get_option("--seed");
    CLI::Option* duration = command.get_option("--duration");
    CLI::Option* negative = command.get_option("--negative");
    CLI::Option* scheduler = command.get_option("--scheduler");
    CLI::Option* latents = addTextOption(command, "--latents", o.request.latentsFile,
                                         "starting latents instead of seeded noise", "FILE.safetensors");
    addTextOption(command, "--latents-key", o.request.latentsKey,
                  "tensor name in the --latents file (default: latents, or its only tensor)", "NAME");
    addTextOption(command, "--input", o.input, "audio-to-audio: vary this clip instead of starting from noise",
                  "AUDIO_FILE")
        ->excludes(latents);
    CLI::Option* inpaint = addTextOption(command, "--inpaint", o.inpaintFile,
                                         "regenerate only --range of this clip, keeping the rest", "AUDIO_FILE");
    CLI::Option* range = addParsedOption(
        command, "--range",
        [range = &o.range](const std::string& text) {
            try {
                *range = parseClipRange(text);
            } catch (const FieldError&) {
                rejectValue("--range", "expects START:END in seconds with END after START (for example 2.0:3.5)", text);
            }
        },
        "with --inpaint: the seconds to regenerate", "START:END");
    inpaint->needs(range);
    range->needs(inpaint);
    CLI::Option* continuation = addTextOption(command, "--continue", o.continueFile,
                                              "append --duration seconds that carry on from this clip's end",
                                              "AUDIO_FILE");
    command.add_flag("--loop", o.request.loop, "a seamless loop: the end flows into the start");
    inpaint->excludes(continuation);
    for (CLI::Option* edit : {inpaint, continuation}) edit->excludes(latents)->excludes("--input")->excludes("--loop");
    addNumberOption(command, "--strength", o.strength,
                    "how far --input may move, 0..1" + defaultNote(o.strength), "S");
    addChoiceOption<int>(command, "--sample-rate", o.request.outputSampleRate,
                         {{"16000", 16000}, {"44100", 44100}, {"48000", 48000}},
                         "output rate: 16000 (the model's rate), 44100 or 48000");
    addChoiceOption<std::optional<int>>(command, "--bits", o.bits, {{"16", 16}, {"24", 24}, {"32", 32}},
                                        "sample format (default: 32-bit float for WAV, exactly what the model "
                                        "produced; 24-bit for FLAC)");
    command.add_flag("-q,--quiet", o.quiet, "no progress bar");
    CLI::Option* rate = command.get_option("--sample-rate");
    CLI::Option* model = command.get_option("--model");
    // The folder may come from the environment or the --from clip, so it is checked once
    // everything is read.
    command.callback([options = &o, prompt, from, steps, guidance, seed, duration, negative, scheduler, rate, model] {
        GenerateOptions& o = *options;
        if (from->count() > 0) {
            std::optional<ClipProvenance> settings;
            try {
                settings = readProvenance(o.settingsFrom);
            } catch (const AudioError& e) {
                throw CLI::ValidationError("--from", e.what());
            }
            if (!settings)
                throw CLI::ValidationError("--from", "'" + o.settingsFrom + "' carries no grym-synth settings");
            const GenerateRequest recorded = toGenerateRequest(*settings);
            GenerateRequest& r = o.request;
            if (prompt->count() == 0) r.prompt = recorded.prompt;
            if (negative->count() == 0) r.negativePrompt = recorded.negativePrompt;
            if (steps->count() == 0) r.steps = recorded.steps;
            if (guidance->count() == 0) r.guidanceScale = recorded.guidanceScale;
            if (seed->count() == 0) r.seed = recorded.seed;
            if (duration->count() == 0) r.durationSeconds = recorded.durationSeconds;
            if (scheduler->count() == 0) r.scheduler = recorded.scheduler;
            if (rate->count() == 0) r.outputSampleRate = recorded.outputSampleRate;
            if (model->count() == 0 && std::filesystem::is_directory(settings->modelFolder))
                o.model = settings->modelFolder;
        }
        if (o.request.prompt.empty()) throw CLI::RequiredError("PROMPT (or --from AUDIO_FILE)");
        if (o.model.empty()) throw CLI::RequiredError("--model DIR (or $GRYM_AUDIOLDM_MODEL)");  // "... is required"
    });
}

}  // namespace grym::cli
