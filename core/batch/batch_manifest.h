#pragma once
// A batch manifest: one clip request per line, as JSON Lines or as CSV with a header row.
//
//   {"id": "steps-gravel", "prompt": "footsteps on gravel", "seconds": 4, "takes": 10}
//
// Fields: id (required; names the output files), prompt (required), negative_prompt, seconds,
// steps, guidance, scheduler, seed, takes, model, precision. A field a line leaves out takes
// the default the command line gave. Every line is checked against the same ApiLimits as
// `generate` and the HTTP API; a line that fails is kept as a problem naming its line number,
// so the caller decides whether to skip it or stop before any work.
#include "api/api_requests.h"
#include "orchestration/model_service.h"

#include <cstddef>
#include <string>
#include <vector>

namespace grym::batch {

// The most takes one line may ask for (each take is its own clip and task).
constexpr int kMaxTakes = 1000;

// What a line leaves out. The request's prompt and seed are not defaults (each line has its
// own prompt; a seed not given is derived from the id and take, batch_plan.h).
struct ClipDefaults {
    GenerateRequest request;  // negative prompt, duration (seconds), steps, guidance, scheduler, sample rate
    int takes = 1;
    std::string model;        // a folder or a Hugging Face repo id; empty: the installed default
    Precision precision = Precision::Fp32;
};

// One valid line of the manifest.
struct ManifestLine {
    size_t lineNumber = 0;  // 1-based line of the file where the entry starts
    size_t entry = 0;       // 0-based position among the manifest's entries (what shards split)
    std::string id;
    GenerateRequest request;  // with the line's seed when it gave one; variations stays 1
    int takes = 1;
    std::string model;
    Precision precision = Precision::Fp32;
};

// A line that could not be used, e.g. "prompts.jsonl line 7: field 'steps' = "ten": expected an integer".
struct ManifestProblem {
    size_t lineNumber = 0;
    size_t entry = 0;
    std::string message;
};

enum class ManifestFormat { JsonLines, Csv };

struct Manifest {
    std::string source;  // the file's name, as messages give it
    ManifestFormat format = ManifestFormat::JsonLines;
    size_t entries = 0;  // valid and malformed lines together (blank lines are not entries)
    std::vector<ManifestLine> lines;
    std::vector<ManifestProblem> problems;
};

// The format a file name implies: .csv is CSV, anything else JSON Lines.
ManifestFormat manifestFormatFor(const std::string& path);

// Parses manifest text; `source` names it in the problems. Throws ApiError only for what
// spoils the whole file (a CSV header without id or prompt, or naming an unknown column).
Manifest parseManifest(const std::string& text, const std::string& source, ManifestFormat format,
                       const ClipDefaults& defaults, const ApiLimits& limits);

// Reads and parses a manifest file; throws ApiError naming it when it cannot be read.
Manifest readManifest(const std::string& path, const ClipDefaults& defaults, const ApiLimits& limits);

// The file name stem of a take: "<id>" for a line with one take, "<id>-<take>" (take 1..N) otherwise.
std::string clipStem(const std::string& id, int take, int takes);

// fp32, fp16, bf16, int8, int4 (the names toString(Precision) gives); throws ApiError otherwise.
Precision parsePrecisionName(const std::string& name);

}  // namespace grym::batch
