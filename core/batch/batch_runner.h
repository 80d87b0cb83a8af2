#pragma once
// Runs a shard's clips through AudioApi and writes each take as DIR/<stem>.flac (or .wav) with
// a JSON sidecar DIR/<stem>.json holding every parameter, the seed used, the model (folder, or
// Hugging Face repo and commit), precision, device, timings and the grym-synth version, then
// appends a line to DIR/index.jsonl.
//
// Resumable: the audio is written to a temporary file and renamed into place, then the sidecar
// the same way, so a clip whose audio and sidecar both exist is finished and is skipped by a
// rerun; a process killed at any moment loses only the clip in flight. Each distinct model
// (and precision) is loaded once per process, and not at all when every clip is already done.
#include "audio/audio_file.h"
#include "batch/batch_plan.h"
#include "orchestration/model_service.h"

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace grym {
class AudioApi;
}

namespace grym::batch {

class BatchIndex;

// Where a manifest's model comes from, for the sidecar: a folder, or a repo in the HF cache.
struct BatchModel {
    std::string given;   // as the manifest or --model gave it ("" for the installed default)
    std::string folder;  // what is loaded
    std::string repo;    // the Hugging Face repo id, when it came from the cache
    std::string commit;  // the cached snapshot's commit, likewise
    std::string problem; // why it cannot be used; empty when fine
};
// Resolved as `serve` and the desktop app do (installed_services.h): a folder, a repo id looked
// up in the HF cache, or, for "", the models folder's audioldm or a cached recommended repo.
BatchModel resolveBatchModel(const std::string& given);

// Makes the (unloaded) generation service for a model; the CLI makes an AudioLdmService.
using GenerationServiceFactory =
    std::function<std::shared_ptr<ModelService>(const BatchModel& model, Precision precision, ComputeDevice device)>;

struct BatchRunOptions {
    std::filesystem::path outputFolder;
    AudioFileFormat format = AudioFileFormat::Flac;  // Flac (24-bit) or Wav (32-bit float)
    ComputeDevice device = ComputeDevice::Cpu;
    Shard shard;
    std::string manifestPath;  // recorded in the sidecars
    // How models are found; tests replace it so they need no HF cache.
    std::function<BatchModel(const std::string&)> resolveModel = resolveBatchModel;
};

enum class ClipStatus { Done, Skipped, Failed };

struct ClipOutcome {
    std::string stem;
    std::string file;     // the audio file's name in the output folder
    size_t lineNumber = 0;
    ClipStatus status = ClipStatus::Done;
    std::string error;    // why it failed
    double seconds = 0;   // generation and writing
};

struct BatchCounts {
    size_t total = 0, done = 0, skipped = 0, failed = 0;
    size_t finished() const { return done + skipped + failed; }
};

struct BatchCallbacks {
    std::function<void(const std::string& message)> onNote;  // "loading model ..."
    std::function<void(const ClipJob& job, const BatchCounts& counts)> onClipStart;
    std::function<void(const ClipJob& job, const ProgressUpdate& update)> onClipProgress;  // on a worker thread
    std::function<void(const ClipOutcome& outcome, const BatchCounts& counts)> onClipEnd;
};

struct BatchSummary {
    BatchCounts counts;
    std::vector<ClipOutcome> failures;
    bool interrupted = false;  // `stop` was set: the clip in flight was cancelled and the rest not started
    double seconds = 0;
};

class BatchRunner {
public:
    // Creates the output folder; throws ApiError naming it when it cannot, or when the index
    // cannot be opened.
    BatchRunner(GenerationServiceFactory factory, BatchRunOptions options);
    ~BatchRunner();
    BatchRunner(const BatchRunner&) = delete;
    BatchRunner& operator=(const BatchRunner&) = delete;

    // The file names of a clip in the output folder.
    std::string audioFileName(const ClipJob& job) const;
    static std::string sidecarFileName(const ClipJob& job) { return job.stem + ".json"; }

    // Makes every clip not yet finished. A failed clip is reported and the batch goes on; when
    // `stop` turns true the clip in flight is cancelled and nothing more starts.
    BatchSummary run(const std::vector<ClipJob>& jobs, const BatchCallbacks& callbacks, const std::atomic<bool>& stop);

private:
    struct LoadedModel;
    ClipOutcome makeClip(const ClipJob& job, LoadedModel& model, const BatchCallbacks& callbacks,
                         const std::atomic<bool>& stop);
    void removeStaleTemporaries(const ClipJob& job) const;

    GenerationServiceFactory factory_;
    BatchRunOptions options_;
    std::unique_ptr<AudioApi> api_;
    std::unique_ptr<BatchIndex> index_;
};

const char* toString(ClipStatus status);

}  // namespace grym::batch
