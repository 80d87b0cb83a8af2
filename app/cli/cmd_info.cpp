// `grym-synth-cli info FILE... [--json]`: the header and levels of each file. A file that
// cannot be read gets one error line; the others are still reported.
#include "cli/command_line.h"
#include "cli/commands.h"

#include "audio/audio_file.h"
#include "audio/audio_ops.h"
#include "common/error.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace grym::cli {
namespace {

std::string decibels(double amplitude) {
    const double db = amplitudeToDb(amplitude);
    if (!std::isfinite(db)) return "-inf dBFS";
    char text[32];
    std::snprintf(text, sizeof(text), "%.2f dBFS", db);
    return text;
}

struct FileReport {
    AudioFileInfo info;
    float peak = 0;
    double rms = 0;
};

FileReport inspect(const std::string& path) {
    FileReport report;
    const AudioBuffer audio = loadAudioFile(path, AudioLimits{}, &report.info);
    report.peak = peakAmplitude(audio);
    report.rms = rmsLevel(audio);
    return report;
}

void printText(const FileReport& r) {
    const auto& i = r.info;
    std::printf("%s\n  format:   %s, %s\n  channels: %d\n  rate:     %d Hz\n  duration: %.3f s (%lld frames)\n"
                "  peak:     %.4f (%s)\n  RMS:      %.4f (%s)\n",
                i.path.c_str(), i.container.c_str(), i.encoding.c_str(), i.channels, i.sampleRate, i.duration(),
                static_cast<long long>(i.frames), r.peak, decibels(r.peak).c_str(), r.rms, decibels(r.rms).c_str());
}

nlohmann::json toJson(const FileReport& r) {
    const auto& i = r.info;
    return {{"path", i.path},         {"format", i.container}, {"encoding", i.encoding},
            {"channels", i.channels}, {"sample_rate", i.sampleRate}, {"frames", i.frames},
            {"duration_s", i.duration()}, {"peak", r.peak}, {"rms", r.rms}};
}

struct InfoOptions {
    std::vector<std::string> files;
    bool json = false;
};

int runInfo(const InfoOptions& options) {
    const bool json = options.json;
    int failures = 0;
    nlohmann::json reports = nlohmann::json::array();
    for (const auto& path : options.files) {
        try {
            const FileReport report = inspect(path);
            if (json) reports.push_back(toJson(report));
            else printText(report);
        } catch (const Error& e) {
            ++failures;
            std::fflush(stdout);
            std::cerr << "grym-synth-cli info: " << e.what() << "\n";
            if (json) reports.push_back({{"path", path}, {"error", e.what()}});
        }
    }
    if (json) std::cout << reports.dump(2) << "\n";
    std::fflush(stdout);
    return failures == 0 ? 0 : 1;
}

}  // namespace

void addInfoCommand(CommandLine& commandLine) {
    auto [command, options] = commandLine.addCommand<InfoOptions>(
        commandLine.program(), "info", "format, channels, sample rate, duration, peak and RMS of audio files", runInfo);
    command.add_option("FILE", options.files, "audio files (any format grym-synth reads)")->required()->type_name("");
    command.add_flag("--json", options.json, "print one JSON object per file");
}

}  // namespace grym::cli
