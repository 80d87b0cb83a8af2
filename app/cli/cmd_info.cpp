// grym-synth-cli info FILE... [--json]: the header and levels of each file. A file that
// cannot be read gets one error line; the others are still reported.
#include "cli/commands.h"

#include "audio/audio_file.h"
#include "audio/audio_ops.h"
#include "common/error.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>

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

}  // namespace

int runInfo(const Args& args) {
    bool json = false;
    Args files;
    for (const auto& a : args) {
        if (a == "--json") json = true;
        else if (a == "--help" || a == "-h") {
            std::cout << "Usage: grym-synth-cli info [--json] FILE...\n"
                         "Prints format, channels, sample rate, duration, peak and RMS of each audio file.\n";
            return 0;
        } else files.push_back(a);
    }
    if (files.empty()) {
        std::cerr << "Usage: grym-synth-cli info [--json] FILE...\n";
        return 2;
    }

    int failures = 0;
    nlohmann::json reports = nlohmann::json::array();
    for (const auto& path : files) {
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

}  // namespace grym::cli
