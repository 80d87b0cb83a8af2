#pragma once
// A small radix-2 FFT for the DSP features (no external FFT library needed).
#include <complex>
#include <cstddef>
#include <vector>

namespace grym::dsp {

// Smallest power of two >= n (n >= 1).
size_t nextPowerOfTwo(size_t n);

// Complex FFT of one fixed power-of-two size, with twiddles and bit-reversal precomputed.
// Not thread-safe per instance (callers on different threads use their own).
class Fft {
public:
    explicit Fft(size_t size);  // throws AudioError unless size is a power of two >= 2
    size_t size() const { return size_; }

    // In place; data.size() must equal size(). Forward uses exp(-2*pi*i*k*n/N), inverse
    // exp(+...) and divides by N.
    void forward(std::vector<std::complex<double>>& data) const;
    void inverse(std::vector<std::complex<double>>& data) const;

    // |X[k]|^2 for k = 0..size/2 of a real frame of length <= size (zero-padded).
    void powerSpectrum(const float* frame, size_t length, std::vector<double>& power);

private:
    void transform(std::vector<std::complex<double>>& data, bool inverse) const;

    size_t size_;
    std::vector<size_t> bitReversed_;
    std::vector<std::complex<double>> twiddles_;  // exp(-2*pi*i*k/N), k < N/2
    std::vector<std::complex<double>> scratch_;
};

// Periodic Hann window of `length` samples (the usual choice for STFT analysis).
std::vector<float> hannWindow(size_t length);

}  // namespace grym::dsp
