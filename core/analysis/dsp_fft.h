#pragma once
// Power spectra of real frames through FFTW3 (single precision, the build aubio uses too).
// FFTW replaced our radix-2 FFT: the library is the reference implementation, takes any size,
// and its r2c transform does half the work of the complex FFT we had.
#include <cstddef>
#include <memory>
#include <vector>

namespace grym::dsp {

// Smallest power of two >= n (n >= 1).
size_t nextPowerOfTwo(size_t n);

// A real-to-complex FFT of one fixed size, planned once (FFTW_ESTIMATE: no timing runs at
// start-up). Not thread-safe per instance; separate instances may run on separate threads.
class Fft {
public:
    explicit Fft(size_t size);  // throws AudioError for size < 2
    ~Fft();
    Fft(Fft&&) noexcept;
    Fft& operator=(Fft&&) noexcept;
    size_t size() const { return size_; }

    // |X[k]|^2 for k = 0..size/2 of a real frame of length <= size (zero-padded), unnormalised
    // (a full-scale sine of a whole number of periods gives (size/2)^2 in its bin).
    void powerSpectrum(const float* frame, size_t length, std::vector<double>& power);

private:
    struct Plan;
    size_t size_;
    std::unique_ptr<Plan> plan_;
};

// Periodic Hann window of `length` samples (the usual choice for STFT analysis).
std::vector<float> hannWindow(size_t length);

}  // namespace grym::dsp
