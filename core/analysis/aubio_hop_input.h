#pragma once
// aubio's detectors take exactly one hop of mono samples per call: AubioHopInput gathers pushed
// samples of any block size into hop-sized aubio vectors, so streams of any block size give
// the same frames. Internal to core/analysis (includes aubio's header).
#include <aubio/aubio.h>

#include <algorithm>
#include <cstddef>
#include <memory>

namespace grym::dsp {

struct AubioVectorDeleter {
    void operator()(fvec_t* v) const { del_fvec(v); }
};
using AubioVector = std::unique_ptr<fvec_t, AubioVectorDeleter>;

class AubioHopInput {
public:
    explicit AubioHopInput(size_t hop) : hop_(hop), input_(new_fvec(static_cast<uint_t>(hop))) {}
    size_t hop() const { return hop_; }
    size_t held() const { return filled_; }

    // Calls onHop(const fvec_t&) for each hop completed by these samples.
    template <typename OnHop>
    void push(const float* samples, size_t count, OnHop&& onHop) {
        while (count > 0) {
            const size_t now = std::min(count, hop_ - filled_);
            std::copy(samples, samples + now, input_->data + filled_);
            filled_ += now;
            samples += now;
            count -= now;
            if (filled_ == hop_) {
                onHop(*input_);
                filled_ = 0;
            }
        }
    }
    // The last partial hop, zero-padded (as aubio's command-line tools read a file's end).
    template <typename OnHop>
    void flush(OnHop&& onHop) {
        if (filled_ == 0) return;
        std::fill(input_->data + filled_, input_->data + hop_, 0.0f);
        onHop(*input_);
        filled_ = 0;
    }

private:
    size_t hop_;
    AubioVector input_;
    size_t filled_ = 0;
};

}  // namespace grym::dsp
