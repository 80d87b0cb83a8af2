#include "cli/runtime_options.h"

#include "models/wav2vec2/model.h"

#include <cmath>
#include <limits>

namespace grym::cli {

std::string CliOptions::text(const std::string& name, const std::string& fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
}

double CliOptions::number(const std::string& name, double fallback) const {
    auto it = values_.find(name);
    if (it == values_.end()) return fallback;
    try {
        size_t used = 0;
        const double v = std::stod(it->second, &used);
        if (used == it->second.size()) return v;
    } catch (const std::exception&) {
    }
    throw UsageError(name + " takes a number (got '" + it->second + "')");
}

int CliOptions::integer(const std::string& name, int fallback) const {
    const double v = number(name, fallback);
    if (v != std::floor(v) || v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max())
        throw UsageError(name + " takes a whole number (got '" + text(name) + "')");
    return static_cast<int>(v);
}

CliOptions parseOptions(const Args& args, const OptionSpec& spec) {
    CliOptions out;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (spec.valueOptions.count(a)) {
            if (i + 1 >= args.size()) throw UsageError(a + " needs a value");
            out.values_[a] = args[++i];
        } else if (spec.flagOptions.count(a)) {
            out.flags_.insert(a);
        } else if (!a.empty() && a[0] == '-') {
            throw UsageError("unknown option " + a);
        } else if (spec.positionals) {
            out.positionals_.push_back(a);
        } else {
            throw UsageError("unexpected argument '" + a + "'");
        }
    }
    return out;
}

std::set<std::string> runtimeOptionNames() { return {"--device", "--dtype"}; }

void parseRuntimeOptions(const CliOptions& options, Wav2vec2RuntimeOptions& runtime) {
    if (options.has("--device")) {
        const std::string device = options.text("--device");
        try {
            runtime.device = torch::Device(device);
        } catch (const std::exception&) {
            throw UsageError("--device takes cpu, cuda or cuda:N (got '" + device + "')");
        }
    }
    if (options.has("--dtype")) {
        const std::string d = options.text("--dtype");
        if (d == "fp32" || d == "float32") runtime.dtype = torch::kFloat32;
        else if (d == "fp16" || d == "float16") runtime.dtype = torch::kFloat16;
        else if (d == "bf16" || d == "bfloat16") runtime.dtype = torch::kBFloat16;
        else throw UsageError("--dtype takes fp32, fp16 or bf16 (got '" + d + "')");
    }
}

Precision parsePrecisionName(const std::string& name) {
    for (const auto p : {Precision::Fp32, Precision::Fp16, Precision::Bf16, Precision::Int8, Precision::Int4})
        if (name == toString(p)) return p;
    throw UsageError("--precision takes fp32, fp16, bf16, int8 or int4, got '" + name + "'");
}

}  // namespace grym::cli
