#include "orchestration/model_service.h"

namespace grym {

const char* toString(ServiceStatus s) {
    switch (s) {
        case ServiceStatus::Unloaded: return "unloaded";
        case ServiceStatus::Loading: return "loading";
        case ServiceStatus::Ready: return "ready";
        case ServiceStatus::Busy: return "busy";
        case ServiceStatus::Failed: return "failed";
    }
    return "?";
}

const char* toString(ComputeDevice d) { return d == ComputeDevice::Cuda ? "cuda" : "cpu"; }

const char* toString(Precision p) {
    switch (p) {
        case Precision::Fp32: return "fp32";
        case Precision::Fp16: return "fp16";
        case Precision::Bf16: return "bf16";
        case Precision::Int8: return "int8";
        case Precision::Int4: return "int4";
    }
    return "?";
}

const char* toString(TaskType t) { return t == TaskType::Analysis ? "analysis" : "generation"; }

TaskCostEstimate ModelService::estimateCost(const TaskInput& input) const {
    TaskCostEstimate cost;
    // A few float copies of the input (resampled, framed, features) is a fair lower bound.
    if (input.audio) cost.workingMemoryBytes = 4 * input.audio->samples.size() * sizeof(float);
    cost.intensity = taskType() == TaskType::Generation ? ComputeIntensity::Heavy : ComputeIntensity::Light;
    return cost;
}

}  // namespace grym
