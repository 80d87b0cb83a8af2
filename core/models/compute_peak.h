#pragma once
// What this machine's arithmetic and memory can do through the libtorch the models use: float32
// matrix products (BLAS / oneDNN behind torch::mm), float32 convolutions (oneDNN / ATen behind
// torch::conv1d/conv2d), int8 matrix products (the quantized engine behind Int8Linear) and the
// memory bandwidth of large copies and reductions. The roofline's ceiling: a model component's
// achieved GFLOP/s is read against these (grym-synth-cli bench peak, bench audioldm).
#include <c10/core/Device.h>
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>

namespace grym {

struct ComputePeakOptions {
    int threads = 0;               // 0: libtorch's default
    double secondsPerCase = 0.5;   // each case repeats until it has run this long (best run kept)
    int64_t bandwidthBytes = int64_t{256} << 20;  // well beyond the last-level cache
    bool int8 = true;              // also the int8 GEMM (skipped where no quantized engine exists)
};

// {benchmark:"peak", libtorch, threads, blas_threads,
//  gemm:[{m,n,k,seconds,gflops (torch::mm), dense_linear_seconds, dense_linear_gflops}],
//  gemm_peak_gflops (the best of both),
//  conv:[{name,input,weight,seconds,gflops}], conv_peak_gflops,
//  int8_gemm:{engine, cases:[...], peak_gops}?, memory:{bytes, copy_gb_per_s, read_gb_per_s},
//  peak_gflops: the larger float32 peak}
nlohmann::json measureComputePeak(const ComputePeakOptions& options = {});

// The ceiling a benchmark's roofline is read against: {peak_gflops, file} from a `bench peak`
// JSON at `peakPath`, or, when that is empty, {peak_gflops, gemm_peak_gflops, conv_peak_gflops,
// measured: "quick"} from a short measurement (0.1 s per case, no int8). Throws on an
// unreadable file or one without peak_gflops.
nlohmann::json readOrMeasurePeak(const std::string& peakPath);

// FLOPs per second of `flops` done in `seconds`, in GFLOP/s, and that as a percentage of
// `peakGflops` (0 when either is unknown).
double gflopsPerSecond(double flops, double seconds);
double percentOfPeak(double gflops, double peakGflops);

}  // namespace grym
