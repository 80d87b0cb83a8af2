// `grym-synth-cli analyze FILE... [--model DIR] [--json]`: DSP features for any file, plus
// wav2vec2 embeddings, transcript and segments when a model folder is given.
#include "cli/commands.h"

#include "analysis/wav2vec2_analysis_service.h"
#include "audio/audio_file.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <iostream>

namespace grym::cli {

namespace {

void printNumber(const nlohmann::json& j, const char* key, const char* label, const char* unit, const char* format = "%.2f") {
    if (!j.contains(key) || !j[key].is_number()) return;
    std::printf("  %-22s ", label);
    std::printf(format, j[key].get<double>());
    std::printf("%s\n", unit);
}

void printSummary(const std::string& file, const TaskResult& r) {
    const auto& f = r.data["features"];
    const auto& p = r.data["patterns"];
    std::printf("%s\n", file.c_str());
    printNumber(f, "duration_s", "duration", " s");
    printNumber(f, "peak_dbfs", "peak", " dBFS");
    printNumber(f, "rms_dbfs", "RMS", " dBFS");
    printNumber(f, "loudness_lufs", "integrated loudness", " LUFS");
    printNumber(f, "spectral_centroid_hz", "spectral centroid", " Hz", "%.0f");
    printNumber(f, "spectral_rolloff_hz", "spectral roll-off", " Hz", "%.0f");
    printNumber(f, "spectral_flatness", "spectral flatness", "", "%.3f");
    printNumber(f, "zero_crossing_rate", "zero-crossing rate", " /sample", "%.4f");
    printNumber(f, "tempo_bpm", "tempo", " BPM", "%.1f");
    printNumber(f, "pitch_hz", "pitch (median)", " Hz", "%.1f");
    printNumber(f, "voiced_ratio", "voiced ratio", "", "%.2f");
    std::printf("  %-22s %zu\n", "onsets", p.value("onsets_s", nlohmann::json::array()).size());
    std::printf("  %-22s %zu\n", "silent regions", p.value("silent_regions", nlohmann::json::array()).size());
    if (p.contains("segments"))
        std::printf("  %-22s %zu boundaries (%s)\n", "segments", p["segments"]["boundaries_s"].size(),
                    p["segments"]["source"].get<std::string>().c_str());
    std::printf("  %-22s %zu\n", "repeated sections", p.value("repeated_sections", nlohmann::json::array()).size());
    if (f.contains("wav2vec2") && f["wav2vec2"].is_object()) {
        const auto& w = f["wav2vec2"];
        std::printf("  %-22s %lld frames, %zu layers, %d windows\n", "wav2vec2", static_cast<long long>(w["frames"].get<int64_t>()),
                    w["layers"].size(), w["windows"].get<int>());
        if (f.contains("transcript")) std::printf("  %-22s \"%s\"\n", "transcript", f["transcript"].get<std::string>().c_str());
    } else {
        std::printf("  %-22s %s\n", "wav2vec2", r.data["model"].value("missing", std::string("missing")).c_str());
    }
    std::printf("  %-22s %.3f s (real-time factor %.3f), peak memory %.0f MiB\n", "analysis time",
                r.metrics["analysis_seconds"].get<double>(), r.metrics["real_time_factor"].get<double>(),
                r.metrics["peak_memory_bytes"].get<double>() / (1024.0 * 1024.0));
}

}  // namespace

int runAnalyze(const Args& args) {
    Wav2vec2ServiceOptions options;
    std::vector<std::string> files;
    bool json = false;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= args.size()) throw std::invalid_argument(a + " needs a value");
            return args[++i];
        };
        try {
            if (a == "--model") options.modelDir = value();
            else if (a == "--json") json = true;
            else if (a == "--window") options.analysis.windowSeconds = std::stod(value());
            else if (a == "--device") options.runtime.device = torch::Device(value());
            else if (a == "--dtype") {
                const std::string d = value();
                if (d == "fp32") options.runtime.dtype = torch::kFloat32;
                else if (d == "fp16") options.runtime.dtype = torch::kFloat16;
                else if (d == "bf16") options.runtime.dtype = torch::kBFloat16;
                else throw std::invalid_argument("--dtype takes fp32, fp16 or bf16");
            } else if (!a.empty() && a[0] == '-') throw std::invalid_argument("unknown option " + a);
            else files.push_back(a);
        } catch (const std::exception& e) {
            std::cerr << "analyze: " << e.what() << "\n";
            files.clear();
            break;
        }
    }
    if (files.empty()) {
        std::cerr << "usage: grym-synth-cli analyze FILE... [--model DIR] [--json] [--window SECONDS]\n"
                     "                                [--device cpu|cuda] [--dtype fp32|fp16|bf16]\n";
        return 2;
    }

    Wav2vec2AnalysisService service(options);
    service.load();
    CancellationToken never;
    nlohmann::json all = nlohmann::json::array();
    int failed = 0;
    for (const auto& file : files) {
        try {
            TaskInput input;
            input.audio = loadAudioFile(file);
            const TaskResult r = service.run(input, {}, never);
            if (json) all.push_back({{"file", file}, {"features", r.data["features"]}, {"patterns", r.data["patterns"]},
                                     {"model", r.data["model"]}, {"metrics", r.metrics}});
            else printSummary(file, r);
        } catch (const std::exception& e) {
            ++failed;
            if (json) all.push_back({{"file", file}, {"error", e.what()}});
            else std::cerr << "analyze: " << file << ": " << e.what() << "\n";
        }
    }
    if (json) std::cout << (files.size() == 1 ? all[0] : all).dump(2) << "\n";
    return failed ? 1 : 0;
}

}  // namespace grym::cli
