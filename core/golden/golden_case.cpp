#include "golden/golden_case.h"

#include "common/error.h"
#include "common/json_reader.h"
#include "golden/golden_components.h"

#include <algorithm>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace grym {

bool GoldenReport::passed() const {
    if (!supported || !error.empty() || comparisons.empty()) return false;
    for (const auto& c : comparisons)
        if (!c.passed) return false;
    return true;
}

namespace {

// TF32 switches: deprecated in recent libtorch (which has a finer-grained precision API), so
// they are called only where this libtorch still has them.
template <typename Context>
auto switchOffTf32(Context& context, int) -> decltype(context.setAllowTF32CuDNN(false), context.setAllowTF32CuBLAS(false),
                                                     void()) {
    context.setAllowTF32CuDNN(false);
    context.setAllowTF32CuBLAS(false);
}
template <typename Context>
void switchOffTf32(Context&, long) {}

double unitRoundoff(torch::ScalarType dtype) {
    switch (dtype) {
        case torch::kFloat16: return std::ldexp(1.0, -11);
        case torch::kBFloat16: return std::ldexp(1.0, -8);
        default: return 0.0;
    }
}

}  // namespace

double goldenRelativeTolerance(double caseTolerance, torch::ScalarType dtype) {
    return std::max(caseTolerance, 64.0 * unitRoundoff(dtype));
}

double goldenAbsoluteTolerance(double caseRelative, double caseAbsolute, torch::ScalarType dtype) {
    const double widened = goldenRelativeTolerance(caseRelative, dtype);
    return caseRelative > 0 ? caseAbsolute * widened / caseRelative : caseAbsolute;
}

GoldenCase::GoldenCase(const std::string& dir, const GoldenRuntime& runtime) : dir_(dir), runtime_(runtime) {
    report_.caseDir = dir;
    const fs::path specPath = fs::path(dir) / "case.json";
    if (!fs::exists(specPath)) throw ModelError(specPath.string() + ": cannot open (is this a golden case folder?)");
    spec_ = readJsonFile(specPath.string());
    // Read through JsonReader so a case.json of the wrong shape is refused naming the field
    // (found by tests/fuzz/golden_case_fuzz.cpp: a non-string component or a tolerance that was
    // not an object escaped as a bare nlohmann type error).
    const JsonReader spec(spec_, specPath.string());
    component_ = spec.string("component", "?");
    const JsonReader tolerance = spec.object("tolerance");
    tolRel_ = tolerance.number("relative_l2", tolRel_);
    tolAbs_ = tolerance.number("max_abs", tolAbs_);
    if (!(tolRel_ >= 0.0)) tolerance.reject("relative_l2", "must be a number >= 0");
    if (!(tolAbs_ >= 0.0)) tolerance.reject("max_abs", "must be a number >= 0");
    report_.component = component_;
    tolAbs_ = goldenAbsoluteTolerance(tolRel_, tolAbs_, runtime_.dtype);
    tolRel_ = goldenRelativeTolerance(tolRel_, runtime_.dtype);
    const fs::path io = fs::path(dir) / "io.safetensors";
    if (fs::exists(io)) io_ = loadSafetensors(io.string());
}

std::string GoldenCase::component() const { return component_; }

bool GoldenCase::hasTensor(const std::string& name) const { return io_.count(name) != 0; }

torch::Tensor GoldenCase::tensor(const std::string& name) const {
    auto it = io_.find(name);
    if (it == io_.end()) throw ModelError(dir_ + "/io.safetensors: no tensor '" + name + "'");
    return it->second;
}

torch::Tensor GoldenCase::input(const std::string& name) const {
    const torch::Tensor t = tensor(name);
    return t.is_floating_point() ? t.to(runtime_.device, runtime_.dtype) : t.to(runtime_.device);
}

std::string GoldenCase::path(const std::string& relative) const { return (fs::path(dir_) / relative).string(); }

GoldenComparison compareTensors(const std::string& name, const torch::Tensor& ours, const torch::Tensor& ref,
                                double tolRel, double tolAbs) {
    GoldenComparison c;
    c.output = name;
    auto a = ours.detach().to(torch::kCPU).to(torch::kFloat64);
    auto b = ref.detach().to(torch::kCPU).to(torch::kFloat64);
    if (!a.sizes().equals(b.sizes())) {
        std::ostringstream os;
        os << "shape " << a.sizes() << " but reference " << b.sizes();
        c.note = os.str();
        c.relativeL2 = c.maxAbs = std::numeric_limits<double>::infinity();
        return c;
    }
    if (!torch::isfinite(a).all().item<bool>()) {
        c.note = "non-finite values";
        c.relativeL2 = c.maxAbs = std::numeric_limits<double>::infinity();
        return c;
    }
    const double refNorm = b.norm().item<double>();
    const double diffNorm = (a - b).norm().item<double>();
    c.relativeL2 = refNorm > 0 ? diffNorm / refNorm : diffNorm;
    c.maxAbs = a.numel() ? (a - b).abs().max().item<double>() : 0.0;
    // A case's max_abs is stated for values of order one. For larger values (a scheduler's
    // samples reach ~100) it would ask for fewer float32 ulps than the reference itself holds on
    // another CPU's kernels (exp/log differ in their last bits), so the absolute bound never goes
    // below the case's relative precision at the reference's largest value.
    const double largest = b.numel() ? b.abs().max().item<double>() : 0.0;
    c.passed = c.relativeL2 <= tolRel && c.maxAbs <= std::max(tolAbs, tolRel * largest);
    return c;
}

void GoldenCase::compare(const std::string& name, const torch::Tensor& ours) {
    report_.comparisons.push_back(compareTensors(name, ours, tensor(name), tolRel_, tolAbs_));
}

void GoldenCase::compareExact(const std::string& name, bool equal, const std::string& detail) {
    GoldenComparison c;
    c.output = name;
    c.passed = equal;
    c.relativeL2 = c.maxAbs = equal ? 0.0 : std::numeric_limits<double>::infinity();
    c.note = detail;
    report_.comparisons.push_back(c);
}

GoldenReport runGoldenCase(const std::string& dir, const GoldenRuntime& runtime) {
    GoldenReport fallback;
    fallback.caseDir = dir;
    try {
        if (runtime.device.is_cuda() && runtime.dtype == torch::kFloat32) switchOffTf32(at::globalContext(), 0);
        GoldenCase c(dir, runtime);
        const std::string comp = c.component();
        try {
            if (comp == "tokenizer") runTokenizerGolden(c);
            else if (comp == "clap_text") runClapTextGolden(c);
            else if (comp == "unet") runUnetGolden(c);
            else if (comp == "vae") runVaeGolden(c);
            else if (comp == "vocoder") runVocoderGolden(c);
            else if (comp == "scheduler_ddim" || comp == "scheduler_dpm" || comp == "scheduler_dpmpp")
                runSchedulerGolden(c);
            else if (comp == "audioldm_pipeline") runPipelineGolden(c);
            else if (comp == "wav2vec2") runWav2vec2Golden(c);
            else {
                c.report().supported = false;
                c.report().error = "unknown component '" + comp + "'";
            }
        } catch (const GoldenUnsupported& u) {
            c.report().supported = false;
            c.report().error = std::string("component '") + comp + "' is not implemented yet: " + u.what;
        } catch (const std::exception& e) {
            c.report().error = e.what();
        }
        return c.report();
    } catch (const std::exception& e) {
        fallback.error = e.what();
        return fallback;
    }
}

}  // namespace grym
