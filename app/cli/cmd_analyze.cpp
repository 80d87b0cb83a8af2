// `grym-synth-cli analyze FILE... [--model DIR] [--json]`: DSP features for any file, plus
// wav2vec2 embeddings, transcript and segments when a model folder is given.
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/shared_options.h"
#include "cli/typed_options.h"

#include "analysis/wav2vec2_analysis_service.h"
#include "api/audio_api.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

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
    if (f.contains("measured_at"))
        std::printf("  %-22s %d Hz, %d channel%s\n", "measured at", f["measured_at"]["sample_rate_hz"].get<int>(),
                    f["measured_at"]["channels"].get<int>(), f["measured_at"]["channels"].get<int>() == 1 ? "" : "s");
    printNumber(f, "duration_s", "duration", " s");
    printNumber(f, "peak_dbfs", "peak", " dBFS");
    printNumber(f, "true_peak_dbtp", "true peak", " dBTP");
    printNumber(f, "rms_dbfs", "RMS", " dBFS");
    printNumber(f, "loudness_lufs", "integrated loudness", " LUFS");
    printNumber(f, "short_term_max_lufs", "short-term max", " LUFS");
    printNumber(f, "loudness_range_lu", "loudness range", " LU");
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

struct AnalyzeOptions {
    std::vector<std::string> files;
    Wav2vec2ServiceOptions service;
    bool json = false;
};

int runAnalyze(const AnalyzeOptions& options) {
    const std::vector<std::string>& files = options.files;
    const bool json = options.json;

    // Through the AudioApi, like the GUI and the HTTP API. Files on the command line are the
    // user's own: no upload-size limit on their duration, and they are decoded block by block.
    AudioApiConfig config;
    config.sampleMemory = false;
    config.queue.workerCount = 1;
    config.limits.maxAnalyzeSeconds = std::numeric_limits<double>::max();
    AudioApi api(config);
    api.addService(std::make_shared<Wav2vec2AnalysisService>(options.service));
    try {
        api.loadService("wav2vec2");
    } catch (const std::exception& e) {
        std::cerr << "analyze: " << e.what() << "\n";
        return 1;
    }
    nlohmann::json all = nlohmann::json::array();
    int failed = 0;
    for (const auto& file : files) {
        try {
            TaskHandle task = api.analyzeFile(file);
            if (task.wait() != TaskState::Succeeded) throw TaskError(task.error());
            const TaskResult r = task.result().get();
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

}  // namespace

void addAnalyzeCommand(CommandLine& commandLine) {
    auto [command, options] = commandLine.addCommand<AnalyzeOptions>(
        commandLine.program(), "analyze", "features, patterns and metrics of audio files (wav2vec2 with --model)",
        runAnalyze);
    Wav2vec2ServiceOptions& service = options.service;
    command.add_option("FILE", options.files, "audio files")->required()->type_name("");
    addModelOption(command, service.modelDir, "Hugging Face wav2vec2 folder: adds embeddings, transcript and segments");
    command.add_flag("--json", options.json, "print the report as JSON");
    addNumberOption(command, "--window", service.analysis.windowSeconds,
                    "seconds of audio per wav2vec2 window" + defaultNote(service.analysis.windowSeconds), "SECONDS");
    addDeviceOption(command, service.runtime.device);
    addDtypeOption(command, service.runtime.dtype);
    addLinearPrecisionOption(command, service.runtime.precision);
}

}  // namespace grym::cli
