#include "models/compute_peak.h"

#include "common/elapsed.h"
#include "common/json_reader.h"
#include "models/cpu_threads.h"
#include "models/dense_linear.h"
#include "models/int8_linear.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <limits>
#include <vector>

namespace grym {

namespace {

// Best wall time of `run` over repeats that add up to at least `budget` seconds (one untimed
// warm-up first: allocations, oneDNN primitive creation, thread-pool start).
template <typename F>
double bestSeconds(double budget, F&& run) {
    run();
    double best = std::numeric_limits<double>::infinity(), spent = 0.0;
    int runs = 0;
    while (runs < 3 || (spent < budget && runs < 1000)) {
        const auto start = SteadyClock::now();
        run();
        const double s = secondsSince(start);
        best = std::min(best, s);
        spent += s;
        ++runs;
    }
    return best;
}

struct GemmCase {
    int64_t m, n, k;
};

// Square products, then the shapes the models run: transformer projections and feed-forwards
// over a few thousand tokens (UNet attention at 5.12 s, wav2vec2 on 10 s).
const std::vector<GemmCase>& gemmCases() {
    static const std::vector<GemmCase> cases = {
        {1024, 1024, 1024}, {2048, 2048, 2048}, {4096, 768, 768}, {512, 3072, 768}, {4096, 1536, 384}};
    return cases;
}

struct ConvCase {
    const char* name;
    std::vector<int64_t> input, weight;
    int64_t padding;
};

// 3x3 convolutions of the UNet's and VAE's levels at 5.12 s and a vocoder-like 1-D one.
const std::vector<ConvCase>& convCases() {
    static const std::vector<ConvCase> cases = {
        {"conv2d 3x3, UNet level 1", {2, 128, 128, 16}, {128, 128, 3, 3}, 1},
        {"conv2d 3x3, UNet level 3", {2, 384, 32, 4}, {384, 384, 3, 3}, 1},
        {"conv2d 3x3, VAE decoder top", {1, 128, 512, 64}, {128, 128, 3, 3}, 1},
        {"conv1d k7, vocoder first stage", {1, 512, 2048}, {512, 512, 7}, 3},
    };
    return cases;
}

}  // namespace

nlohmann::json readOrMeasurePeak(const std::string& peakPath) {
    if (!peakPath.empty())
        return {{"file", peakPath}, {"peak_gflops", readJsonFile(peakPath).at("peak_gflops").get<double>()}};
    ComputePeakOptions quick;
    quick.secondsPerCase = 0.1;
    quick.int8 = false;
    const auto peak = measureComputePeak(quick);
    return {{"measured", "quick"},
            {"peak_gflops", peak.at("peak_gflops")},
            {"gemm_peak_gflops", peak.at("gemm_peak_gflops")},
            {"conv_peak_gflops", peak.at("conv_peak_gflops")}};
}

double gflopsPerSecond(double flops, double seconds) { return seconds > 0 ? flops / seconds / 1e9 : 0.0; }

double percentOfPeak(double gflops, double peakGflops) { return peakGflops > 0 ? 100.0 * gflops / peakGflops : 0.0; }

nlohmann::json measureComputePeak(const ComputePeakOptions& options) {
    const CpuThreadPools pools = useOneCpuThreadPool(options.threads);
    torch::NoGradGuard noGrad;
    const double budget = std::max(0.01, options.secondsPerCase);
    nlohmann::json out = {{"benchmark", "peak"}, {"libtorch", TORCH_VERSION}, {"threads", torch::get_num_threads()},
                          {"blas_threads", pools.blasThreadsNow}};
    torch::manual_seed(0);

    double gemmPeak = 0.0;
    nlohmann::json gemm = nlohmann::json::array();
    for (const auto& c : gemmCases()) {
        const auto a = torch::randn({c.m, c.k}), b = torch::randn({c.k, c.n});
        auto result = torch::empty({c.m, c.n});
        const double s = bestSeconds(budget, [&] { torch::mm_out(result, a, b); });
        // The same product as the models' linear layers compute it (b as a [n, k] weight).
        const auto weight = b.t().contiguous();
        const double sLinear = bestSeconds(budget, [&] { denseLinear(a, weight, {}); });
        const double flops = 2.0 * c.m * c.n * c.k;
        const double g = gflopsPerSecond(flops, s), gLinear = gflopsPerSecond(flops, sLinear);
        gemmPeak = std::max({gemmPeak, g, gLinear});
        gemm.push_back({{"m", c.m}, {"n", c.n}, {"k", c.k}, {"seconds", s}, {"gflops", g},
                        {"dense_linear_seconds", sLinear}, {"dense_linear_gflops", gLinear}});
    }
    out["gemm"] = gemm;
    out["gemm_peak_gflops"] = gemmPeak;

    double convPeak = 0.0;
    nlohmann::json conv = nlohmann::json::array();
    for (const auto& c : convCases()) {
        const auto x = torch::randn(c.input), w = torch::randn(c.weight);
        const bool twoD = c.input.size() == 4;
        torch::Tensor y;
        const double s = bestSeconds(budget, [&] {
            y = twoD ? torch::conv2d(x, w, {}, 1, c.padding) : torch::conv1d(x, w, {}, 1, c.padding);
        });
        // Each output entry sums in_channels × kernel products.
        const double flops = 2.0 * static_cast<double>(y.numel()) * static_cast<double>(w.numel() / w.size(0));
        const double g = gflopsPerSecond(flops, s);
        convPeak = std::max(convPeak, g);
        conv.push_back({{"name", c.name}, {"input", c.input}, {"weight", c.weight}, {"seconds", s}, {"gflops", g}});
    }
    out["conv"] = conv;
    out["conv_peak_gflops"] = convPeak;
    out["peak_gflops"] = std::max(gemmPeak, convPeak);

    if (options.int8) {
        if (const auto engine = Int8Linear::engine()) {
            double int8Peak = 0.0;
            nlohmann::json cases = nlohmann::json::array();
            for (const auto& c : gemmCases()) {
                const auto x = torch::randn({c.m, c.k});
                const auto values = torch::randint(-127, 128, {c.n, c.k}, torch::kInt8);
                const auto layer = Int8Linear::pack(values, torch::full({c.n}, 0.01), {});
                // Includes quantising the input and converting the result: what a layer pays.
                const double s = bestSeconds(budget, [&] { layer.forward(x); });
                const double g = gflopsPerSecond(2.0 * c.m * c.n * c.k, s);
                int8Peak = std::max(int8Peak, g);
                cases.push_back({{"m", c.m}, {"n", c.n}, {"k", c.k}, {"seconds", s}, {"gops", g}});
            }
            out["int8_gemm"] = {{"engine", *engine}, {"cases", cases}, {"peak_gops", int8Peak}};
        }
    }

    const int64_t floats = std::max<int64_t>(1, options.bandwidthBytes / 4);
    const auto source = torch::rand({floats});
    auto target = torch::empty_like(source);
    const double copySeconds = bestSeconds(budget, [&] { target.copy_(source); });
    const double readSeconds = bestSeconds(budget, [&] { source.sum(); });
    const double bytes = static_cast<double>(source.nbytes());
    out["memory"] = {{"bytes", bytes},
                     // A copy reads and writes every byte once.
                     {"copy_gb_per_s", 2.0 * bytes / copySeconds / 1e9},
                     {"read_gb_per_s", bytes / readSeconds / 1e9}};
    return out;
}

}  // namespace grym
