#include "analysis/dsp_fft.h"
#include "common/error.h"
#include "core/measurement_bounds.h"

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
    // Worst-case rounding in float64 (u = 2^-53), summed for the two sides. The direct DFT is a
    // sum of n complex products (each within sqrt(2) gamma_2 of exact) whose twiddles std::polar
    // rounds once more: within (sqrt(2) gamma_(n+2) + u) sum |x|. The radix-2 FFT's log2(n)
    // stages each add at most eta = u + gamma_4 (sqrt(2) + u) relative in the 2-norm
    // (Higham, "Accuracy and Stability of Numerical Algorithms", theorem 24.2), which bounds
    // every element: within log2(n) eta |x|_2.
    const double u = grym::test::kDoubleRoundoff;
    double magnitudeSum = 0, squareSum = 0;
    for (const auto& v : x) {
        magnitudeSum += std::abs(v);
        squareSum += std::norm(v);
    }
    const double norm = std::sqrt(squareSum), stages = std::log2(double(n));
    const double eta = u + grym::test::summationBound(4) * (std::sqrt(2.0) + u);
    const double directBound = (std::sqrt(2.0) * grym::test::summationBound(double(n + 2)) + u) * magnitudeSum;
    const double fftBound = stages * eta * norm;
    for (size_t k = 0; k < n; ++k) {
        std::complex<double> direct;
        for (size_t t = 0; t < n; ++t) direct += x[t] * std::polar(1.0, -2 * M_PI * double(k * t) / n);
        CHECK(std::abs(y[k] - direct) <= directBound + fftBound);
    }
    // The inverse adds the same log2(n) eta of |y|_2 = sqrt(n) |x|_2 before its division by n
    // (exact: n is a power of two), so the round trip is within 2 log2(n) eta |x|_2.
    fft.inverse(y);
    for (size_t t = 0; t < n; ++t) CHECK(std::abs(y[t] - x[t]) <= 2 * fftBound);
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
