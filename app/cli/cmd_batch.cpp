// `grym-synth-cli batch MANIFEST --out DIR`: many clips from a manifest (JSON Lines or CSV),
// resumable, and split into shards for Slurm job arrays and Kubernetes Indexed Jobs. The work is
// done by core/batch (manifest, shard plan, runner); this file reads the options and reports.
#include "cli/command_line.h"
#include "cli/progress_text.h"
#include "cli/commands.h"
#include "cli/shared_options.h"
#include "cli/typed_options.h"

#include "batch/batch_manifest.h"
#include "batch/batch_plan.h"
#include "batch/batch_runner.h"
#include "common/strings.h"
#include "models/audioldm/audioldm_service.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <optional>

namespace grym::cli {

namespace {

struct BatchOptions {
    std::string manifest, out;
    std::optional<batch::Shard> shard;
    std::optional<size_t> shards;
    batch::ClipDefaults defaults;
    ComputeDevice device = ComputeDevice::Cpu;
    AudioFileFormat format = AudioFileFormat::Flac;
    int threads = 0;
    bool strict = false, dryRun = false, quiet = false;

    BatchOptions() { defaults.request.durationSeconds = 5.12; }  // AudioLDM's own default length, as generate
};

// SIGINT (Ctrl-C) and SIGTERM (Slurm and Kubernetes stop or preempt a job with it) cancel the
// clip in flight at its next step, so nothing half-written is left and the rerun resumes.
std::atomic<bool> stopRequested{false};
std::atomic<int> stopSignal{0};
extern "C" void onStopSignal(int signal) {
    stopSignal.store(signal);
    stopRequested.store(true);
}

// Progress on stderr: one bar redrawn in place on a terminal (clips done/total, rate, time
// left, the clip in flight), plain log lines otherwise (one per finished or failed clip).
class BatchProgress {
public:
    BatchProgress(bool quiet, std::string shardText)
        : terminal_(!quiet && isatty(STDERR_FILENO) != 0), quiet_(quiet), shardText_(std::move(shardText)) {}

    void note(const std::string& message) {
        std::lock_guard<std::mutex> lock(mutex_);
        clearBar();
        if (!quiet_) std::cerr << message << "\n";
    }
    void clipStarted(const batch::ClipJob& job, const batch::BatchCounts& counts) {
        std::lock_guard<std::mutex> lock(mutex_);
        counts_ = counts;
        current_ = job.stem;
        stage_.clear();
        if (!firstStart_) firstStart_ = std::chrono::steady_clock::now();
        if (!terminal_ && !quiet_ && counts.skipped > 0 && !reportedSkips_)
            std::cerr << counts.skipped << " clip(s) already finished: skipped\n";
        reportedSkips_ = true;
        drawBar();
    }
    void clipProgress(const ProgressUpdate& u) {
        std::lock_guard<std::mutex> lock(mutex_);
        stage_ = u.stage + (u.totalSteps > 0 ? " " + std::to_string(u.step) + "/" + std::to_string(u.totalSteps) : "");
        const auto now = std::chrono::steady_clock::now();
        if (now - lastDrawn_ < std::chrono::milliseconds(100)) return;
        drawBar();
    }
    void clipEnded(const batch::ClipOutcome& outcome, const batch::BatchCounts& counts) {
        std::lock_guard<std::mutex> lock(mutex_);
        counts_ = counts;
        if (outcome.status == batch::ClipStatus::Skipped) return;
        const std::string position = "[" + std::to_string(counts.finished()) + "/" + std::to_string(counts.total) + "] ";
        if (outcome.status == batch::ClipStatus::Failed) {
            clearBar();
            std::cerr << position << "FAILED " << outcome.stem << " (line " << outcome.lineNumber << "): " << outcome.error
                      << "\n";
        } else if (!terminal_ && !quiet_) {
            char seconds[32];
            std::snprintf(seconds, sizeof seconds, "%.2f s", outcome.seconds);
            std::cerr << position << "wrote " << outcome.file << " (" << seconds << ")\n";
        }
        current_.clear();
        drawBar();
    }
    void finish() {
        std::lock_guard<std::mutex> lock(mutex_);
        clearBar();
    }

private:
    // Clips made per second since the first one started, and the time the rest will take.
    void drawBar() {
        if (!terminal_) return;
        lastDrawn_ = std::chrono::steady_clock::now();
        const double elapsed =
            firstStart_ ? std::chrono::duration<double>(lastDrawn_ - *firstStart_).count() : 0.0;
        const size_t made = counts_.done + counts_.failed;
        const double rate = elapsed > 0 && made > 0 ? made / elapsed : 0.0;
        const size_t left = counts_.total - counts_.finished();
        constexpr int width = 24;
        const double fraction = counts_.total ? static_cast<double>(counts_.finished()) / counts_.total : 1.0;
        const int filled = static_cast<int>(fraction * width);
        char rateText[32];
        std::snprintf(rateText, sizeof rateText, "%.2f clips/s", rate);
        std::cerr << "\r[" << std::string(filled, '#') << std::string(width - filled, '.') << "] "
                  << counts_.finished() << "/" << counts_.total << " clips  " << rateText << "  "
                  << formatClock(rate > 0 ? left / rate : -1) << " left";
        if (counts_.failed) std::cerr << "  " << counts_.failed << " failed";
        if (!current_.empty()) std::cerr << "  " << current_ << (stage_.empty() ? "" : " " + stage_);
        std::cerr << "\x1b[K" << std::flush;
        drawn_ = true;
    }
    void clearBar() {
        if (drawn_) std::cerr << "\r\x1b[K" << std::flush;
        drawn_ = false;
    }

    std::mutex mutex_;  // progress arrives on the worker thread
    const bool terminal_, quiet_;
    const std::string shardText_;
    batch::BatchCounts counts_;
    std::string current_, stage_;
    std::optional<std::chrono::steady_clock::time_point> firstStart_;
    std::chrono::steady_clock::time_point lastDrawn_{};
    bool drawn_ = false, reportedSkips_ = false;
};

int runBatch(const BatchOptions& o) {
    applyThreads(o.threads);
    const batch::Shard shard =
        o.shard ? *o.shard : batch::shardFromEnvironment(batch::processEnvironment(), o.shards);
    const ApiLimits limits;
    const batch::Manifest manifest = batch::readManifest(o.manifest, o.defaults, limits);

    // Each shard reports the malformed lines it would have made, so N shards do not print
    // every problem N times; --strict stops every shard when any line is malformed.
    size_t shardProblems = 0;
    for (const auto& problem : manifest.problems) {
        if (!shard.includes(problem.entry) && !o.strict) continue;
        ++shardProblems;
        std::cerr << "grym-synth-cli batch: " << problem.message << (o.strict ? "" : " (line skipped)") << "\n";
    }
    if (o.strict && !manifest.problems.empty()) {
        std::cerr << "grym-synth-cli batch: " << manifest.problems.size()
                  << " malformed line(s) and --strict: nothing was generated\n";
        return 1;
    }

    const std::vector<batch::ClipJob> jobs = batch::planClips(manifest, shard);
    const std::string shardText =
        shard.origin.empty() ? "whole manifest" : "shard " + shard.text() + " (from " + shard.origin + ")";
    if (!o.quiet)
        std::cerr << o.manifest << ": " << manifest.entries << " line(s); " << shardText << ": " << jobs.size()
                  << " clip(s) into " << o.out << "\n";

    batch::BatchRunOptions options;
    options.outputFolder = o.out;
    options.format = o.format;
    options.device = o.device;
    options.shard = shard;
    options.manifestPath = std::filesystem::absolute(o.manifest).string();
    if (o.dryRun) {
        // What the run would do, without loading a model or writing anything.
        for (const batch::ClipJob& job : jobs) {
            const std::string audio = job.stem + (o.format == AudioFileFormat::Wav ? ".wav" : ".flac");
            std::error_code ec;
            const bool finished = std::filesystem::is_regular_file(std::filesystem::path(o.out) / audio, ec) &&
                                  std::filesystem::is_regular_file(std::filesystem::path(o.out) / (job.stem + ".json"), ec);
            std::cout << audio << "\tline " << job.line.lineNumber << "\tseed " << job.seed
                      << (job.seedDerived ? " (derived)" : "") << "\t" << (finished ? "finished" : "to do") << "\n";
        }
        return shardProblems ? 1 : 0;
    }

    auto factory = [](const batch::BatchModel& model, Precision precision, ComputeDevice device) {
        audioldm::AudioLdmServiceOptions service;
        service.modelPath = model.folder;
        service.precision = precision;
        service.device = device;
        return std::static_pointer_cast<ModelService>(std::make_shared<audioldm::AudioLdmService>(service));
    };
    batch::BatchRunner runner(factory, options);

    BatchProgress progress(o.quiet, shardText);
    batch::BatchCallbacks callbacks;
    callbacks.onNote = [&progress](const std::string& message) { progress.note(message); };
    callbacks.onClipStart = [&progress](const batch::ClipJob& job, const batch::BatchCounts& counts) {
        progress.clipStarted(job, counts);
    };
    callbacks.onClipProgress = [&progress](const batch::ClipJob&, const ProgressUpdate& u) { progress.clipProgress(u); };
    callbacks.onClipEnd = [&progress](const batch::ClipOutcome& outcome, const batch::BatchCounts& counts) {
        progress.clipEnded(outcome, counts);
    };

    stopRequested.store(false);
    const auto previousInt = std::signal(SIGINT, onStopSignal);
    const auto previousTerm = std::signal(SIGTERM, onStopSignal);
    struct RestoreHandlers {
        decltype(previousInt) interrupt, terminate;
        ~RestoreHandlers() {
            std::signal(SIGINT, interrupt);
            std::signal(SIGTERM, terminate);
        }
    } restore{previousInt, previousTerm};

    const batch::BatchSummary summary = runner.run(jobs, callbacks, stopRequested);
    progress.finish();

    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.1f s", summary.seconds);
    std::cout << "batch, " << shardText << ": " << summary.counts.done << " done, " << summary.counts.skipped
              << " skipped (already finished), " << summary.counts.failed << " failed";
    if (shardProblems) std::cout << ", " << shardProblems << " malformed line(s) skipped";
    if (summary.interrupted)
        std::cout << ", " << summary.counts.total - summary.counts.finished() << " not started (interrupted)";
    std::cout << " in " << seconds << "\n";
    for (const auto& failure : summary.failures)
        std::cout << "  failed: " << failure.stem << " (line " << failure.lineNumber << "): " << failure.error << "\n";
    if (summary.interrupted) return 128 + stopSignal.load();
    return summary.counts.failed || shardProblems ? 1 : 0;
}

}  // namespace

void addBatchCommand(CommandLine& commandLine) {
    auto [command, o] = commandLine.addCommand<BatchOptions>(
        commandLine.program(), "batch",
        "many clips from a manifest (JSON Lines or CSV), resumable and shardable (Slurm, Kubernetes)", runBatch);
    command.add_option("MANIFEST_FILE", o.manifest,
                       "one clip request a line: .jsonl, or .csv with a header (fields: id, prompt, "
                       "negative_prompt, seconds, steps, guidance, scheduler, seed, takes, model, precision)")
        ->required()
        ->type_name("");
    addTextOption(command, "-o,--out", o.out,
                  "output folder: <id>[-<take>].flac (or .wav) with a <id>[-<take>].json sidecar, and index.jsonl",
                  "DIR")
        ->required();
    addChoiceOption<AudioFileFormat>(command, "--format", o.format,
                                     {{"flac", AudioFileFormat::Flac}, {"wav", AudioFileFormat::Wav}},
                                     "audio files: flac (24-bit, the default) or wav (32-bit float)");
    addModelOption(command, o.defaults.model,
                   "diffusers AudioLDM folder or Hugging Face repo id for lines without a model "
                   "(default: $GRYM_AUDIOLDM_MODEL, else the installed model)")
        ->envname("GRYM_AUDIOLDM_MODEL");
    addNumberOption(command, "--seconds", o.defaults.request.durationSeconds,
                    "length of lines without seconds" + defaultNote(o.defaults.request.durationSeconds), "SECONDS");
    addWholeNumberOption(command, "--steps", o.defaults.request.steps,
                         "denoising steps of lines without steps" + defaultNote(o.defaults.request.steps));
    addNumberOption(command, "--guidance", o.defaults.request.guidanceScale,
                    "guidance of lines without guidance" + defaultNote(o.defaults.request.guidanceScale), "G");
    addChoiceOption<std::string>(command, "--scheduler", o.defaults.request.scheduler,
                                 {{"ddim", "ddim"}, {"dpm++", "dpm++"}},
                                 "sampler of lines without scheduler (default " + o.defaults.request.scheduler + ")");
    addTextOption(command, "--negative", o.defaults.request.negativePrompt, "negative prompt of lines without one");
    addWholeNumberOption(command, "--takes", o.defaults.takes,
                         "takes of lines without takes (seeds seed, seed+1, ... or derived from id and take)", 1);
    addChoiceOption<int>(command, "--sample-rate", o.defaults.request.outputSampleRate,
                         {{"16000", 16000}, {"44100", 44100}, {"48000", 48000}},
                         "output rate: 16000 (the model's rate), 44100 or 48000");
    addPrecisionOption(command, o.defaults.precision);
    addDeviceOption(command, o.device);
    addThreadsOption(command, o.threads);
    addParsedOption(
        command, "--shard",
        [shard = &o.shard](const std::string& text) {
            try {
                *shard = batch::parseShard(text);
            } catch (const ApiError&) {
                rejectValue("--shard", "takes I/N with 0 <= I < N", text);
            }
        },
        "do only the lines whose 0-based index is I mod N (default: from SLURM_ARRAY_TASK_ID, or "
        "JOB_COMPLETION_INDEX with --shards)",
        "I/N");
    addWholeNumberOption(command, "--shards", o.shards,
                         "shard count for a Kubernetes Indexed Job (its completions)", size_t{1});
    command.add_flag("--strict", o.strict, "stop before any work when a line is malformed (default: skip it)");
    command.add_flag("--dry-run", o.dryRun, "list this shard's clips, seeds and what is finished; generate nothing");
    command.add_flag("-q,--quiet", o.quiet, "no progress; only failures and the summary");
}

}  // namespace grym::cli
