#include "models/flop_count.h"

namespace grym {

namespace {
thread_local FlopCount* innermostFlopCount = nullptr;
}

FlopCount::FlopCount() : outer_(innermostFlopCount) { innermostFlopCount = this; }

FlopCount::~FlopCount() {
    innermostFlopCount = outer_;
    // What ran inside also ran inside the enclosing count.
    if (outer_) outer_->flops_ += flops_;
}

void FlopCount::addProducts(const torch::Tensor& output, int64_t sumLength) {
    if (!innermostFlopCount) return;
    innermostFlopCount->flops_ += 2 * static_cast<uint64_t>(output.numel()) * static_cast<uint64_t>(sumLength);
}

}  // namespace grym
