#include "analysis/dsp_fft.h"
#include "common/error.h"

#include <catch2/catch.hpp>

#include <random>

using namespace grym::dsp;

TEST_CASE("the FFT agrees with a direct DFT and inverts", "[dsp][fft]") {
    const size_t n = 64;
    std::mt19937 rng(1);
    std::normal_distribution<double> dist;
    std::vector<std::complex<double>> x(n);
    for (auto& v : x) v = {dist(rng), dist(rng)};
    auto y = x;
    Fft fft(n);
    fft.forward(y);
    for (size_t k = 0; k < n; ++k) {
        std::complex<double> direct;
        for (size_t t = 0; t < n; ++t) direct += x[t] * std::polar(1.0, -2 * M_PI * double(k * t) / n);
        CHECK(std::abs(y[k] - direct) < 1e-9);
    }
    fft.inverse(y);
    for (size_t t = 0; t < n; ++t) CHECK(std::abs(y[t] - x[t]) < 1e-12);
}

TEST_CASE("FFT sizes must be powers of two", "[dsp][fft]") {
    CHECK_THROWS_AS(Fft(48), grym::AudioError);
    CHECK_THROWS_AS(Fft(1), grym::AudioError);
    CHECK(nextPowerOfTwo(1000) == 1024);
    CHECK(nextPowerOfTwo(1024) == 1024);
    Fft fft(8);
    std::vector<std::complex<double>> wrong(4);
    CHECK_THROWS_AS(fft.forward(wrong), grym::AudioError);
}
