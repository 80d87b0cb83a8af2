#pragma once
// One golden reference case (../shared/golden/cases/<name>): its case.json, its
// io.safetensors, and the comparisons our implementation's outputs are judged by.
#include "weights/safetensors.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace grym {

// Where a case's model runs and in what dtype. Model components (clap_text, unet, vae, vocoder,
// audioldm_pipeline, wav2vec2) load on `device` in `dtype` and take their inputs there; the
// tokenizer and scheduler cases have no weights and always run on the CPU.
struct GoldenRuntime {
    torch::Device device = torch::kCPU;
    torch::ScalarType dtype = torch::kFloat32;
};

// The tolerances a case's own ones become in `dtype`: unchanged in float32; in float16 and
// bfloat16 the relative L2 bound is at least 64 unit roundoffs of the dtype (float16 3.1e-2,
// bfloat16 0.25), and the max-abs bound scales with it. The reference is float32, so a narrow
// dtype differs by its own rounding through the whole network; these bounds are a first guess
// (docs/GPU.md), to be set from measurements once a GPU has run them.
double goldenRelativeTolerance(double caseTolerance, torch::ScalarType dtype);
double goldenAbsoluteTolerance(double caseRelative, double caseAbsolute, torch::ScalarType dtype);

struct GoldenComparison {
    std::string output;
    double relativeL2 = 0.0;  // ||ours - ref|| / ||ref||
    double maxAbs = 0.0;      // max |ours - ref|
    bool passed = false;
    std::string note;         // set when shapes differ or values are not finite
};

struct GoldenReport {
    std::string caseDir;
    std::string component;
    bool supported = true;    // false: we cannot run this component (yet); counts as a failure
    std::string error;        // set when running the case threw
    std::vector<GoldenComparison> comparisons;
    bool passed() const;
};

class GoldenCase {
public:
    explicit GoldenCase(const std::string& dir, const GoldenRuntime& runtime = {});

    const std::string& dir() const { return dir_; }
    const nlohmann::json& spec() const { return spec_; }
    std::string component() const;
    const GoldenRuntime& runtime() const { return runtime_; }
    torch::Device device() const { return runtime_.device; }
    torch::ScalarType dtype() const { return runtime_.dtype; }
    double toleranceRelativeL2() const { return tolRel_; }
    double toleranceMaxAbs() const { return tolAbs_; }

    bool hasTensor(const std::string& name) const;
    torch::Tensor tensor(const std::string& name) const;  // from io.safetensors, throws if absent
    // The same on the runtime's device, floating tensors in its dtype (a model's inputs).
    torch::Tensor input(const std::string& name) const;
    std::string path(const std::string& relative) const;  // dir/relative

    // Compares ours against io.safetensors[name] and records the result in the report.
    void compare(const std::string& name, const torch::Tensor& ours);
    // Records a non-tensor check (a decoded string, a list of ids).
    void compareExact(const std::string& name, bool equal, const std::string& detail = {});

    GoldenReport& report() { return report_; }

private:
    std::string dir_;
    nlohmann::json spec_;
    std::string component_;
    StateDict io_;
    GoldenRuntime runtime_;
    double tolRel_ = 1e-5;
    double tolAbs_ = 1e-4;
    GoldenReport report_;
};

// Runs the case in `dir` with our implementation of its component. Never throws: errors
// and unsupported components are recorded in the report. On CUDA in float32, TF32 is switched
// off for cuBLAS and cuDNN first, so float32 means float32 as in the reference.
GoldenReport runGoldenCase(const std::string& dir, const GoldenRuntime& runtime = {});

// Relative L2 and max-abs error of ours vs reference (float64 arithmetic). Passes when the relative
// L2 is within tolRel and the max-abs within max(tolAbs, tolRel * max|ref|).
GoldenComparison compareTensors(const std::string& name, const torch::Tensor& ours, const torch::Tensor& ref,
                                double tolRel, double tolAbs);

}  // namespace grym
