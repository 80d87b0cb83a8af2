#pragma once
// Integrated loudness after ITU-R BS.1770-4 / EBU R128, for one channel.
#include <array>
#include <cstddef>
#include <deque>
#include <vector>

namespace grym::dsp {

// One biquad: y = (b0 x + b1 x[-1] + b2 x[-2]) - a1 y[-1] - a2 y[-2] (a0 normalised to 1).
struct Biquad {
    std::array<double, 3> b{1, 0, 0};
    std::array<double, 2> a{0, 0};  // a1, a2
};

// The two K-weighting stages (high shelf, then high pass) at any sample rate, derived from
// the analog prototype by the bilinear transform; at 48 kHz they equal BS.1770's table.
std::array<Biquad, 2> kWeightingFilters(int sampleRate);

struct LoudnessResult {
    double integratedLufs;  // -inf when no 400 ms block passes the gates (silence, too short)
    int blocks = 0;         // 400 ms blocks measured (75 % overlap)
    int gatedBlocks = 0;    // blocks that passed both gates
};

// K-weighting, mean square over 400 ms blocks every 100 ms, absolute gate -70 LUFS,
// relative gate 10 LU below the absolute-gated mean. A mono signal counts as a single
// channel with weight 1.
LoudnessResult integratedLoudness(const std::vector<float>& mono, int sampleRate);

// The same measurement fed block by block (a long recording never has to be in memory):
// keeps the filter state, the K-weighted energy of the last 400 ms and one value per
// 100 ms block. add() any number of times, then result().
class LoudnessMeter {
public:
    explicit LoudnessMeter(int sampleRate);
    void add(const float* samples, size_t count);
    LoudnessResult result() const;

private:
    std::array<Biquad, 2> stages_;
    double x1_[2] = {0, 0}, x2_[2] = {0, 0}, y1_[2] = {0, 0}, y2_[2] = {0, 0};
    size_t blockLength_ = 0, step_ = 0;
    std::deque<double> pendingEnergy_;  // K-weighted squares from the next block's start on
    std::vector<double> blockPower_;    // mean square of each complete 400 ms block
};

}  // namespace grym::dsp
