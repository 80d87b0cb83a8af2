#pragma once
// One golden reference case (../shared/golden/cases/<name>): its case.json, its
// io.safetensors, and the comparisons our implementation's outputs are judged by.
#include "weights/safetensors.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace grym {

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
    explicit GoldenCase(const std::string& dir);

    const std::string& dir() const { return dir_; }
    const nlohmann::json& spec() const { return spec_; }
    std::string component() const;
    double toleranceRelativeL2() const { return tolRel_; }
    double toleranceMaxAbs() const { return tolAbs_; }

    bool hasTensor(const std::string& name) const;
    torch::Tensor tensor(const std::string& name) const;  // from io.safetensors, throws if absent
    std::string path(const std::string& relative) const;  // dir/relative

    // Compares ours against io.safetensors[name] and records the result in the report.
    void compare(const std::string& name, const torch::Tensor& ours);
    // Records a non-tensor check (a decoded string, a list of ids).
    void compareExact(const std::string& name, bool equal, const std::string& detail = {});

    GoldenReport& report() { return report_; }

private:
    std::string dir_;
    nlohmann::json spec_;
    StateDict io_;
    double tolRel_ = 1e-5;
    double tolAbs_ = 1e-4;
    GoldenReport report_;
};

// Runs the case in `dir` with our implementation of its component. Never throws: errors
// and unsupported components are recorded in the report.
GoldenReport runGoldenCase(const std::string& dir);

// Relative L2 and max-abs error of ours vs reference (float64 arithmetic). Passes when the relative
// L2 is within tolRel and the max-abs within max(tolAbs, tolRel * max|ref|).
GoldenComparison compareTensors(const std::string& name, const torch::Tensor& ours, const torch::Tensor& ref,
                                double tolRel, double tolAbs);

}  // namespace grym
