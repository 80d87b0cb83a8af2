#pragma once
// Bounds for the tests of the plain C++ computations (DSP, audio files, resampling), derived
// from the arithmetic or the measurement rather than tuned to one machine; numeric_bounds.h does
// the same for torch computations. No torch here, so any test can include it. Three kinds:
//  - rounding: two computations of one value that differ only in the order of their operations
//    (blocks of a stream against the whole signal, a file against memory);
//  - quantisation: PCM storage;
//  - chance: a statistic of a random test signal, allowed kChanceSigmas standard deviations.
#include <cmath>
#include <limits>

namespace grym::test {

// Unit roundoff u = 2^-p: the largest relative error of rounding one result to the type.
constexpr double kDoubleRoundoff = std::numeric_limits<double>::epsilon() / 2;  // 2^-53
constexpr double kFloatRoundoff = std::numeric_limits<float>::epsilon() / 2;    // 2^-24

// gamma_n = n u / (1 - n u): a sum or dot product of n terms, in any order, is within gamma_n of
// the exact value relative to the sum of the terms' magnitudes (Higham, "Accuracy and Stability
// of Numerical Algorithms", section 3.1).
inline double summationBound(double terms, double u = kDoubleRoundoff) { return terms * u / (1.0 - terms * u); }

// One step of a signed `bits`-bit PCM code on the [-1, 1) scale: 2^(1 - bits), 1/32768 for 16
// bits. A sample comes back within one step: a converter that truncates errs by less than a
// step; one that rounds by half a step, plus |x| steps if it scales by 2^(bits-1) - 1 on the
// way out (libsndfile reads back with 2^(bits-1)), which stays under one step for |x| <= 1/2.
inline double pcmStep(int bits) { return std::ldexp(1.0, 1 - bits); }

// A statistic of a random signal further than this many standard deviations from its expected
// value does not happen by chance (probability far below 1e-20 for anything near Gaussian).
constexpr double kChanceSigmas = 10.0;

// The pitch requirement of the analysis: within 1 %, a sixth of a semitone (a semitone is
// 2^(1/12) - 1 = 5.9 %), where the errors a pitch tracker makes are octaves (50 or 100 %).
constexpr double kPitchTolerance = 0.01;

// EBU Tech 3341's tolerance for a loudness meter's integrated loudness: +-0.1 LU.
constexpr double kLoudnessToleranceLu = 0.1;

}  // namespace grym::test
