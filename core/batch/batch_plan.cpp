#include "batch/batch_plan.h"

#include "common/error.h"

#include <cerrno>
#include <cstdlib>

namespace grym::batch {

namespace {

// A whole number >= 0 written in decimal, nothing else.
std::optional<size_t> readCount(const std::string& text) {
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 9) return std::nullopt;
    return static_cast<size_t>(std::strtoull(text.c_str(), nullptr, 10));
}

size_t requireCount(const EnvironmentLookup& environment, const std::string& name) {
    const auto value = environment(name);
    const auto count = value ? readCount(*value) : std::nullopt;
    if (!count) throw ApiError(name + " must be a whole number, got '" + value.value_or("") + "'");
    return *count;
}

Shard slurmShard(const EnvironmentLookup& environment) {
    const size_t id = requireCount(environment, "SLURM_ARRAY_TASK_ID");
    const size_t min = environment("SLURM_ARRAY_TASK_MIN") ? requireCount(environment, "SLURM_ARRAY_TASK_MIN") : 0;
    const size_t step = environment("SLURM_ARRAY_TASK_STEP") ? requireCount(environment, "SLURM_ARRAY_TASK_STEP") : 1;
    if (step == 0) throw ApiError("SLURM_ARRAY_TASK_STEP must be at least 1");
    size_t count = 0;
    if (environment("SLURM_ARRAY_TASK_COUNT")) {
        count = requireCount(environment, "SLURM_ARRAY_TASK_COUNT");
    } else if (environment("SLURM_ARRAY_TASK_MAX")) {
        const size_t max = requireCount(environment, "SLURM_ARRAY_TASK_MAX");
        if (max < min) throw ApiError("SLURM_ARRAY_TASK_MAX is below SLURM_ARRAY_TASK_MIN");
        count = (max - min) / step + 1;
    } else {
        throw ApiError("SLURM_ARRAY_TASK_ID is set but neither SLURM_ARRAY_TASK_COUNT nor SLURM_ARRAY_TASK_MAX is");
    }
    // An array given as a list (--array=1,5,9) has no fixed step: its ids cannot be numbered 0..N-1.
    if (id < min || (id - min) % step != 0 || (id - min) / step >= count)
        throw ApiError("SLURM_ARRAY_TASK_ID " + std::to_string(id) + " is not one of " + std::to_string(count) +
                       " evenly spaced array tasks from " + std::to_string(min) +
                       "; submit the array as a range (--array=0-N) or give --shard I/N");
    return {(id - min) / step, count, "SLURM_ARRAY_TASK_ID"};
}

}  // namespace

Shard parseShard(const std::string& text) {
    const auto slash = text.find('/');
    const auto index = slash == std::string::npos ? std::nullopt : readCount(text.substr(0, slash));
    const auto count = slash == std::string::npos ? std::nullopt : readCount(text.substr(slash + 1));
    if (!index || !count || *count == 0 || *index >= *count)
        throw ApiError("--shard takes I/N with 0 <= I < N (e.g. 0/4), got '" + text + "'");
    return {*index, *count, "--shard"};
}

EnvironmentLookup processEnvironment() {
    return [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        if (!value) return std::nullopt;
        return std::string(value);
    };
}

Shard shardFromEnvironment(const EnvironmentLookup& environment, std::optional<size_t> shards) {
    if (shards && *shards == 0) throw ApiError("--shards must be at least 1");
    if (environment("SLURM_ARRAY_TASK_ID")) {
        Shard shard = slurmShard(environment);
        if (shards && *shards != shard.count)
            throw ApiError("--shards " + std::to_string(*shards) + " disagrees with the Slurm array's " +
                           std::to_string(shard.count) + " tasks");
        return shard;
    }
    if (environment("JOB_COMPLETION_INDEX")) {
        const size_t index = requireCount(environment, "JOB_COMPLETION_INDEX");
        if (!shards)
            throw ApiError("JOB_COMPLETION_INDEX is set: give --shards N (the Indexed Job's completions)");
        if (index >= *shards)
            throw ApiError("JOB_COMPLETION_INDEX " + std::to_string(index) + " is not below --shards " +
                           std::to_string(*shards));
        return {index, *shards, "JOB_COMPLETION_INDEX"};
    }
    if (shards && *shards != 1)
        throw ApiError("--shards " + std::to_string(*shards) +
                       " needs JOB_COMPLETION_INDEX (a Kubernetes Indexed Job); elsewhere give --shard I/N");
    return {};
}

int64_t derivedSeed(const std::string& id, int take) {
    // FNV-1a over the id, a separator no id holds, and the take number.
    uint64_t hash = 1469598103934665603ull;
    auto mix = [&hash](unsigned char byte) {
        hash ^= byte;
        hash *= 1099511628211ull;
    };
    for (unsigned char c : id) mix(c);
    mix(0);
    for (unsigned char c : std::to_string(take)) mix(c);
    return static_cast<int64_t>(hash & ((uint64_t{1} << 53) - 1));
}

std::vector<ClipJob> planClips(const Manifest& manifest, const Shard& shard) {
    std::vector<ClipJob> jobs;
    for (const ManifestLine& line : manifest.lines) {
        if (!shard.includes(line.entry)) continue;
        for (int take = 1; take <= line.takes; ++take) {
            ClipJob job;
            job.line = line;
            job.take = take;
            job.seedDerived = !line.request.seed;
            job.seed = line.request.seed ? *line.request.seed + (take - 1) : derivedSeed(line.id, take);
            job.line.request.seed = job.seed;
            job.stem = clipStem(line.id, take, line.takes);
            jobs.push_back(std::move(job));
        }
    }
    return jobs;
}

}  // namespace grym::batch
