#include "analysis/dsp_fft.h"

#include "common/error.h"
#include "common/math_constants.h"

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <string>

namespace grym::dsp {
namespace {

// FFTW's planner keeps process-wide state; aubio plans its own transforms with the same
// library. Once per process, before the first plan, FFTW is told to serialise every planner
// call itself (ours and aubio's alike), so analyses on different threads are safe.
void makeFftwPlannerThreadSafe() {
    static std::once_flag once;
    std::call_once(once, [] { fftwf_make_planner_thread_safe(); });
}

}  // namespace

size_t nextPowerOfTwo(size_t n) {
    size_t p = 1;
    while (p < n) p <<= 1;
    return p;
}

struct Fft::Plan {
    float* input = nullptr;
    fftwf_complex* output = nullptr;
    fftwf_plan plan = nullptr;
    explicit Plan(size_t size) {
        input = fftwf_alloc_real(size);
        output = fftwf_alloc_complex(size / 2 + 1);
        if (!input || !output) throw AudioError("FFT of size " + std::to_string(size) + ": out of memory");
        plan = fftwf_plan_dft_r2c_1d(static_cast<int>(size), input, output, FFTW_ESTIMATE);
        if (!plan) throw AudioError("FFT of size " + std::to_string(size) + ": FFTW could not plan it");
    }
    ~Plan() {
        if (plan) fftwf_destroy_plan(plan);
        fftwf_free(input);
        fftwf_free(output);
    }
    Plan(const Plan&) = delete;
    Plan& operator=(const Plan&) = delete;
};

Fft::Fft(size_t size) : size_(size) {
    if (size < 2) throw AudioError("FFT size " + std::to_string(size) + " is below 2");
    makeFftwPlannerThreadSafe();
    plan_ = std::make_unique<Plan>(size);
}

Fft::~Fft() = default;
Fft::Fft(Fft&&) noexcept = default;
Fft& Fft::operator=(Fft&&) noexcept = default;

void Fft::powerSpectrum(const float* frame, size_t length, std::vector<double>& power) {
    const size_t used = std::min(length, size_);
    std::copy(frame, frame + used, plan_->input);
    std::fill(plan_->input + used, plan_->input + size_, 0.0f);
    fftwf_execute(plan_->plan);
    power.resize(size_ / 2 + 1);
    for (size_t k = 0; k <= size_ / 2; ++k) {
        const double re = plan_->output[k][0], im = plan_->output[k][1];
        power[k] = re * re + im * im;
    }
}

std::vector<float> hannWindow(size_t length) {
    std::vector<float> window(length);
    for (size_t i = 0; i < length; ++i)
        window[i] = static_cast<float>(0.5 - 0.5 * std::cos(2.0 * kPi * static_cast<double>(i) / length));
    return window;
}

}  // namespace grym::dsp
