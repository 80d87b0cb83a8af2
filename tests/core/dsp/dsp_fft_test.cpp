#include "analysis/dsp_fft.h"
#include "common/error.h"
#include "core/measurement_bounds.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <complex>
#include <random>

using namespace grym::dsp;

TEST_CASE("the FFTW power spectrum agrees with a direct DFT, at powers of two and other sizes", "[dsp][fft]") {
    std::mt19937 rng(1);
    std::normal_distribution<float> dist;
    for (size_t n : {64u, 48u, 2048u}) {
        INFO("size " << n);
        std::vector<float> x(n);
        for (auto& v : x) v = dist(rng);
        Fft fft(n);
        std::vector<double> power;
        fft.powerSpectrum(x.data(), x.size(), power);
        REQUIRE(power.size() == n / 2 + 1);
        // FFTW computes in float32: each output is within about log2(n) float roundings of
        // the 2-norm of the input (Higham, theorem 24.2, with u = 2^-24); the direct sum in
        // float64 is exact by comparison. The power |X|^2 then errs by 2 |X| that much.
        double squareSum = 0;
        for (float v : x) squareSum += static_cast<double>(v) * v;
        const double bound = std::ceil(std::log2(static_cast<double>(n)) + 2) * 4 * grym::test::kFloatRoundoff * std::sqrt(squareSum);
        for (size_t k = 0; k <= n / 2; ++k) {
            std::complex<double> direct;
            for (size_t t = 0; t < n; ++t) direct += static_cast<double>(x[t]) * std::polar(1.0, -2 * M_PI * double(k * t) / n);
            CHECK(std::abs(std::sqrt(power[k]) - std::abs(direct)) <= bound);
        }
    }
}

TEST_CASE("a short frame is zero-padded and a size below 2 is refused", "[dsp][fft]") {
    CHECK_THROWS_AS(Fft(1), grym::AudioError);
    CHECK(nextPowerOfTwo(1000) == 1024);
    CHECK(nextPowerOfTwo(1024) == 1024);
    Fft fft(8);
    const float impulse[] = {1.0f};
    std::vector<double> power;
    fft.powerSpectrum(impulse, 1, power);
    // An impulse followed by zeros has a flat spectrum of magnitude 1.
    for (double p : power) CHECK(p == Approx(1.0).epsilon(grym::test::kFloatRoundoff * 8));
}
