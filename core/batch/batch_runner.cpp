#include "batch/batch_runner.h"

#include "api/audio_api.h"
#include "api/installed_services.h"
#include "batch/batch_index.h"
#include "common/elapsed.h"
#include "common/error.h"
#include "platform/atomic_file.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <set>
#include <tuple>

namespace fs = std::filesystem;

namespace grym::batch {

namespace {

std::string utcNow() {
    const std::time_t now = std::time(nullptr);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    return text;
}

nlohmann::json modelJson(const BatchModel& model) {
    nlohmann::json j = {{"given", model.given}, {"folder", model.folder}};
    if (!model.repo.empty()) {
        j["repo"] = model.repo;
        j["commit"] = model.commit;
    }
    return j;
}

// Everything needed to make the clip again, and what making it cost.
nlohmann::json sidecarJson(const ClipJob& job, const std::string& audioFile, const BatchRunOptions& options,
                           const BatchModel& model, double loadSeconds, const TaskResult& result,
                           double generationSeconds, double writeSeconds, const std::string& startedAt) {
    const GenerateRequest& r = job.line.request;
    const AudioBuffer& audio = *result.audio;
    const bool flac = options.format == AudioFileFormat::Flac;
    nlohmann::json j = {
        {"grym_synth_version", GRYM_VERSION},
        {"id", job.line.id},
        {"take", job.take},
        {"takes", job.line.takes},
        {"file", audioFile},
        {"format", flac ? "flac" : "wav"},
        {"encoding", toString(flac ? SampleEncoding::Pcm24 : SampleEncoding::Float32)},
        {"manifest", {{"path", options.manifestPath}, {"line", job.line.lineNumber}}},
        {"prompt", r.prompt},
        {"negative_prompt", r.negativePrompt},
        {"seconds", r.durationSeconds},
        {"steps", r.steps},
        {"guidance", r.guidanceScale},
        {"scheduler", r.scheduler},
        {"sample_rate", r.outputSampleRate},
        {"seed", job.seed},
        {"seed_origin", job.seedDerived ? "derived from id and take" : "manifest"},
        {"model", modelJson(model)},
        {"precision", toString(job.line.precision)},
        {"device", toString(options.device)},
        {"shard", {{"index", options.shard.index}, {"count", options.shard.count}, {"origin", options.shard.origin}}},
        {"audio",
         {{"frames", audio.frames()}, {"sample_rate", audio.sampleRate}, {"channels", audio.channels},
          {"duration_seconds", audio.duration()}}},
        {"timings",
         {{"model_load_seconds", loadSeconds},
          {"generation_seconds", generationSeconds},
          {"write_seconds", writeSeconds},
          {"realtime_factor", audio.duration() > 0 ? generationSeconds / audio.duration() : 0.0}}},
        {"started_at", startedAt},
        {"finished_at", utcNow()},
        {"service", result.data},
    };
    // The service's own seed report must be the one asked for; a mismatch would break reruns.
    if (result.data.contains("seed") && result.data["seed"] != nlohmann::json(job.seed))
        throw TaskError("the generation service used seed " + result.data["seed"].dump() + " instead of " +
                        std::to_string(job.seed));
    return j;
}

nlohmann::json indexRecord(const ClipOutcome& outcome, const ClipJob& job, const Shard& shard) {
    nlohmann::json j = {{"status", toString(outcome.status)},
                        {"file", outcome.file},
                        {"sidecar", BatchRunner::sidecarFileName(job)},
                        {"id", job.line.id},
                        {"take", job.take},
                        {"line", job.line.lineNumber},
                        {"seed", job.seed},
                        {"shard", shard.text()},
                        {"seconds", outcome.seconds},
                        {"at", utcNow()}};
    if (!outcome.error.empty()) j["error"] = outcome.error;
    return j;
}

bool isFile(const fs::path& path) {
    std::error_code ec;
    return fs::is_regular_file(path, ec);
}

}  // namespace

const char* toString(ClipStatus status) {
    switch (status) {
        case ClipStatus::Done: return "done";
        case ClipStatus::Skipped: return "skipped";
        case ClipStatus::Failed: return "failed";
    }
    return "?";
}

BatchModel resolveBatchModel(const std::string& given) {
    ModelLocations locations;
    locations.audioldm = given;
    const ModelChoice choice = chooseModelFolder(locations, "audioldm");
    BatchModel model;
    model.given = given;
    model.folder = choice.folder;
    model.problem = choice.problem;
    if (!choice.origin.empty()) {
        // A cached snapshot's folder is <cache>/models--ORG--NAME/snapshots/<commit>.
        model.repo = given.empty() ? choice.origin.substr(0, choice.origin.find(' ')) : given;
        model.commit = fs::path(choice.folder).filename().string();
    }
    return model;
}

struct BatchRunner::LoadedModel {
    BatchModel model;
    Precision precision = Precision::Fp32;
    std::shared_ptr<ModelService> service;
    double loadSeconds = 0;
    std::string loadError;  // every clip of the model fails with it
};

BatchRunner::BatchRunner(GenerationServiceFactory factory, BatchRunOptions options)
    : factory_(std::move(factory)), options_(std::move(options)) {
    std::error_code ec;
    fs::create_directories(options_.outputFolder, ec);
    if (!fs::is_directory(options_.outputFolder, ec))
        throw ApiError("cannot create the output folder " + options_.outputFolder.string());
    AudioApiConfig config;
    config.queue.workerCount = 1;
    config.sampleMemory = false;
    api_ = std::make_unique<AudioApi>(config);
    index_ = std::make_unique<BatchIndex>(options_.outputFolder / "index.jsonl");
}

BatchRunner::~BatchRunner() = default;

std::string BatchRunner::audioFileName(const ClipJob& job) const {
    return job.stem + (options_.format == AudioFileFormat::Wav ? ".wav" : ".flac");
}

void BatchRunner::removeStaleTemporaries(const ClipJob& job) const {
    // What a killed run left: writeFileAtomically's "<name>.tmp-N" (saveAudioFile writes through
    // it too). No other process writes this clip's files (shards never share a clip).
    const std::string audioPrefix = audioFileName(job) + ".tmp-";
    const std::string sidecarPrefix = sidecarFileName(job) + ".tmp-";
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(options_.outputFolder, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind(audioPrefix, 0) == 0 || name.rfind(sidecarPrefix, 0) == 0) fs::remove(entry.path(), ec);
    }
}

ClipOutcome BatchRunner::makeClip(const ClipJob& job, LoadedModel& model, const BatchCallbacks& callbacks,
                                  const std::atomic<bool>& stop) {
    ClipOutcome outcome;
    outcome.stem = job.stem;
    outcome.file = audioFileName(job);
    outcome.lineNumber = job.line.lineNumber;
    const auto start = SteadyClock::now();
    const std::string startedAt = utcNow();
    try {
        if (!model.loadError.empty()) throw TaskError(model.loadError);
        removeStaleTemporaries(job);
        TaskCallbacks taskCallbacks;
        if (callbacks.onClipProgress)
            taskCallbacks.onProgress = [&job, &callbacks](TaskId, const ProgressUpdate& u) { callbacks.onClipProgress(job, u); };
        TaskHandle handle = api_->generateAudio(job.line.request, taskCallbacks);
        while (!handle.waitFor(std::chrono::milliseconds(100)))
            if (stop.load()) handle.cancel();
        const TaskResult result = handle.result().get();  // TaskCancelled passes through
        if (!result.audio) throw TaskError("the generation service returned no audio");
        const double generationSeconds = secondsSince(start);

        const auto writeStart = SteadyClock::now();
        SaveOptions save;
        save.format = options_.format;
        save.encoding = options_.format == AudioFileFormat::Flac ? SampleEncoding::Pcm24 : SampleEncoding::Float32;
        saveAudioFile((options_.outputFolder / outcome.file).string(), *result.audio, save);
        // The sidecar goes last: it is what marks the clip finished.
        nlohmann::json sidecar = sidecarJson(job, outcome.file, options_, model.model, model.loadSeconds, result,
                                             generationSeconds, 0.0, startedAt);
        sidecar["timings"]["write_seconds"] = secondsSince(writeStart);
        const std::string sidecarText = sidecar.dump(2) + "\n";
        writeFileAtomically(options_.outputFolder / sidecarFileName(job), sidecarText.data(), sidecarText.size());
        outcome.status = ClipStatus::Done;
    } catch (const TaskCancelled&) {
        throw;
    } catch (const std::exception& e) {
        outcome.status = ClipStatus::Failed;
        outcome.error = e.what();
    }
    outcome.seconds = secondsSince(start);
    return outcome;
}

BatchSummary BatchRunner::run(const std::vector<ClipJob>& jobs, const BatchCallbacks& callbacks,
                              const std::atomic<bool>& stop) {
    const auto start = SteadyClock::now();
    BatchSummary summary;
    summary.counts.total = jobs.size();
    auto note = [&callbacks](const std::string& message) {
        if (callbacks.onNote) callbacks.onNote(message);
    };
    auto finish = [&](const ClipOutcome& outcome, const ClipJob& job) {
        if (outcome.status == ClipStatus::Done) ++summary.counts.done;
        if (outcome.status == ClipStatus::Skipped) ++summary.counts.skipped;
        if (outcome.status == ClipStatus::Failed) {
            ++summary.counts.failed;
            summary.failures.push_back(outcome);
        }
        if (outcome.status != ClipStatus::Skipped) index_->append(indexRecord(outcome, job, options_.shard));
        if (callbacks.onClipEnd) callbacks.onClipEnd(outcome, summary.counts);
    };

    // Finished clips first, so a rerun of a finished shard loads no model at all. A clip whose
    // files exist but whose index line was lost (killed between the two) gets its line now.
    const std::set<std::string> indexed = BatchIndex::finishedFiles(index_->path());
    std::vector<const ClipJob*> pending;
    for (const ClipJob& job : jobs) {
        const std::string audio = audioFileName(job);
        if (!isFile(options_.outputFolder / audio) || !isFile(options_.outputFolder / sidecarFileName(job))) {
            pending.push_back(&job);
            continue;
        }
        ClipOutcome skipped{job.stem, audio, job.line.lineNumber, ClipStatus::Skipped, "", 0.0};
        if (!indexed.count(audio)) {
            ClipOutcome recorded = skipped;
            recorded.status = ClipStatus::Done;
            index_->append(indexRecord(recorded, job, options_.shard));
        }
        finish(skipped, job);
    }

    // One model at a time, each loaded once: the pending clips grouped by model and precision,
    // in manifest order within a group.
    std::stable_sort(pending.begin(), pending.end(), [](const ClipJob* a, const ClipJob* b) {
        return std::tie(a->line.model, a->line.precision) < std::tie(b->line.model, b->line.precision);
    });
    std::unique_ptr<LoadedModel> loaded;
    std::map<std::string, BatchModel> resolved;
    for (const ClipJob* job : pending) {
        if (stop.load()) {
            summary.interrupted = true;
            break;
        }
        if (!loaded || loaded->model.given != job->line.model || loaded->precision != job->line.precision) {
            if (loaded && loaded->service) {
                api_->removeService(loaded->service->id());
                loaded->service->unload();
            }
            loaded = std::make_unique<LoadedModel>();
            auto found = resolved.find(job->line.model);
            if (found == resolved.end()) found = resolved.emplace(job->line.model, options_.resolveModel(job->line.model)).first;
            loaded->model = found->second;
            loaded->precision = job->line.precision;
            try {
                if (!loaded->model.problem.empty()) throw ApiError(loaded->model.problem);
                note("loading " + (loaded->model.repo.empty() ? loaded->model.folder : loaded->model.repo + " (" + loaded->model.folder + ")") +
                     " (" + toString(loaded->precision) + ", " + toString(options_.device) + ")");
                const auto loadStart = SteadyClock::now();
                loaded->service = factory_(loaded->model, loaded->precision, options_.device);
                loaded->service->load();
                loaded->loadSeconds = secondsSince(loadStart);
                api_->addService(loaded->service);
            } catch (const std::exception& e) {
                loaded->loadError = "cannot load the model " + (loaded->model.given.empty() ? loaded->model.folder : loaded->model.given) +
                                    ": " + e.what();
                loaded->service.reset();
                note(loaded->loadError);
            }
        }
        if (callbacks.onClipStart) callbacks.onClipStart(*job, summary.counts);
        try {
            finish(makeClip(*job, *loaded, callbacks, stop), *job);
        } catch (const TaskCancelled&) {
            summary.interrupted = true;
            break;
        }
    }
    summary.seconds = secondsSince(start);
    return summary;
}

}  // namespace grym::batch
