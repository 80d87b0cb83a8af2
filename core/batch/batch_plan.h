#pragma once
// Which clips one process of a batch makes, and with which seeds and file names.
//
// A batch is split into N shards by manifest entry: shard I does the entries whose 0-based
// position is I mod N, so shards never write the same file and need not talk to each other.
// The shard comes from --shard I/N or from the engine running the process: a Slurm job array
// (SLURM_ARRAY_TASK_ID with SLURM_ARRAY_TASK_COUNT, or with SLURM_ARRAY_TASK_MIN/MAX and STEP)
// or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, with the shard count from --shards N).
#include "batch/batch_manifest.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace grym::batch {

struct Shard {
    size_t index = 0;
    size_t count = 1;
    std::string origin;  // "--shard", "SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX", or "" (the whole batch)

    bool includes(size_t entry) const { return entry % count == index; }
    std::string text() const { return std::to_string(index) + "/" + std::to_string(count); }
};

// "I/N" with 0 <= I < N; throws ApiError naming the text otherwise.
Shard parseShard(const std::string& text);

// The value of an environment variable, or nullopt when it is not set.
using EnvironmentLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvironmentLookup processEnvironment();

// The shard when no --shard was given: from a Slurm job array, else from a Kubernetes Indexed
// Job (which needs `shards`, the Job's completions), else the whole batch. `shards`, when given
// beside a Slurm array, must agree with the array's size. Throws ApiError naming the variable
// when the environment is inconsistent.
Shard shardFromEnvironment(const EnvironmentLookup& environment, std::optional<size_t> shards);

// The seed of a take whose line gave none: a hash of the id and the take number, so a rerun of
// the batch (or of one line) makes the same clips. Below 2^53, so every JSON reader keeps it exact.
int64_t derivedSeed(const std::string& id, int take);

// One output clip: a take of a manifest line.
struct ClipJob {
    ManifestLine line;     // its request carries this take's seed
    int take = 1;          // 1..line.takes
    int64_t seed = 0;      // the line's seed + (take - 1), or derivedSeed(id, take)
    bool seedDerived = false;
    std::string stem;      // clipStem(id, take, takes): the output's file name without extension
};

// The takes of the shard's lines, in manifest order.
std::vector<ClipJob> planClips(const Manifest& manifest, const Shard& shard);

}  // namespace grym::batch
