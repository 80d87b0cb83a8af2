#include "analysis/dsp_fft.h"

#include "common/math_constants.h"
#include "common/error.h"

#include <cmath>
#include <string>

namespace grym::dsp {

size_t nextPowerOfTwo(size_t n) {
    size_t p = 1;
    while (p < n) p <<= 1;
    return p;
}

Fft::Fft(size_t size) : size_(size) {
    if (size < 2 || (size & (size - 1)) != 0)
        throw AudioError("FFT size " + std::to_string(size) + " is not a power of two >= 2");
    int bits = 0;
    while ((size_t{1} << bits) < size) ++bits;
    bitReversed_.resize(size);
    for (size_t i = 0; i < size; ++i) {
        size_t r = 0;
        for (int b = 0; b < bits; ++b) r |= ((i >> b) & 1) << (bits - 1 - b);
        bitReversed_[i] = r;
    }
    twiddles_.resize(size / 2);
    for (size_t k = 0; k < size / 2; ++k) twiddles_[k] = std::polar(1.0, -2.0 * kPi * static_cast<double>(k) / size);
}

void Fft::transform(std::vector<std::complex<double>>& data, bool inverse) const {
    if (data.size() != size_)
        throw AudioError("FFT of size " + std::to_string(size_) + " given " + std::to_string(data.size()) + " values");
    for (size_t i = 0; i < size_; ++i)
        if (i < bitReversed_[i]) std::swap(data[i], data[bitReversed_[i]]);
    // Iterative Cooley-Tukey: butterflies over spans of 2, 4, ..., N.
    for (size_t span = 2; span <= size_; span <<= 1) {
        const size_t half = span / 2, stride = size_ / span;
        for (size_t start = 0; start < size_; start += span) {
            for (size_t k = 0; k < half; ++k) {
                const std::complex<double> w = inverse ? std::conj(twiddles_[k * stride]) : twiddles_[k * stride];
                const std::complex<double> odd = w * data[start + k + half];
                data[start + k + half] = data[start + k] - odd;
                data[start + k] += odd;
            }
        }
    }
    if (inverse)
        for (auto& v : data) v /= static_cast<double>(size_);
}

void Fft::forward(std::vector<std::complex<double>>& data) const { transform(data, false); }
void Fft::inverse(std::vector<std::complex<double>>& data) const { transform(data, true); }

void Fft::powerSpectrum(const float* frame, size_t length, std::vector<double>& power) {
    scratch_.assign(size_, {0.0, 0.0});
    for (size_t i = 0; i < length && i < size_; ++i) scratch_[i] = frame[i];
    forward(scratch_);
    power.resize(size_ / 2 + 1);
    for (size_t k = 0; k <= size_ / 2; ++k) power[k] = std::norm(scratch_[k]);
}

std::vector<float> hannWindow(size_t length) {
    std::vector<float> window(length);
    for (size_t i = 0; i < length; ++i)
        window[i] = static_cast<float>(0.5 - 0.5 * std::cos(2.0 * kPi * static_cast<double>(i) / length));
    return window;
}

}  // namespace grym::dsp
