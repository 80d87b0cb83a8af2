// `grym-synth-cli export IN OUT [--trim START:END] [--fade-in S] [--fade-out S]
//  [--normalize LUFS] [--format wav16|wav24|wavf|flac|ogg]`: a file ready for a DAW, written
// through the AudioApi like the desktop app's Export dialog (core/audio/clip_export.h).
#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/typed_options.h"

#include "api/audio_api.h"
#include "audio/audio_file.h"
#include "audio/clip_export.h"

#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

namespace grym::cli {
namespace {

struct ExportCommandOptions {
    std::string input;
    std::string output;
    std::optional<ExportFormat> format;  // none: from OUT's extension
    ExportOptions exportOptions;
};

// "0.5:3" (from 0.5 s to 3 s), "0.5:" (from 0.5 s to the end), ":3" (the first 3 s).
void parseTrim(const std::string& text, ExportOptions& options) {
    const std::string option = "--trim";
    const std::string expectation = "expects START:END in seconds (either side may be empty)";
    const auto colon = text.find(':');
    if (colon == std::string::npos || text.find(':', colon + 1) != std::string::npos) rejectValue(option, expectation, text);
    const std::string start = text.substr(0, colon), end = text.substr(colon + 1);
    if (start.empty() && end.empty()) rejectValue(option, expectation, text);
    options.trimStartSeconds = start.empty() ? 0.0 : parseNumber(option, start);
    options.trimEndSeconds = end.empty() ? std::nullopt : std::optional<double>(parseNumber(option, end));
}

int runExport(ExportCommandOptions& o) {
    ExportOptions& options = o.exportOptions;
    if (o.format) {
        options.format = *o.format;
    } else if (const auto implied = exportFormatForPath(o.output)) {
        options.format = *implied;
    } else {
        std::cerr << "grym-synth-cli export: " << o.output
                  << ": cannot tell the format from the extension; give --format or end the name in .wav, .flac or .ogg\n";
        return 1;
    }
    // Through the AudioApi, like the desktop app; export needs no model service and no workers.
    AudioApiConfig config;
    config.sampleMemory = false;
    config.queue.workerCount = 1;
    AudioApi api(config);
    const AudioBuffer clip = loadAudioFile(o.input);
    options.metadata = readAudioMetadata(o.input);  // a generated clip's settings travel with it
    const ExportResult result = api.exportClip(clip, o.output, options);
    std::printf("wrote %s (%s, %.3f s, %d frames, %d Hz, %d channel%s)\n", result.path.c_str(), displayName(result.format),
                result.duration(), static_cast<int>(result.frames), result.sampleRate, result.channels,
                result.channels == 1 ? "" : "s");
    if (result.loudnessBeforeLufs)
        std::printf("loudness: %.1f LUFS -> %.1f LUFS (gain %+.2f dB)\n", *result.loudnessBeforeLufs,
                    *options.normaliseLufs, result.gainDb);
    std::fflush(stdout);
    if (result.clipped())
        std::cerr << "grym-synth-cli export: warning: the peak reached " << result.peak
                  << " of full scale and was clipped in " << displayName(result.format)
                  << "; choose a lower --normalize target or --format wavf\n";
    return 0;
}

}  // namespace

void addExportCommand(CommandLine& commandLine) {
    auto [command, options] = commandLine.addCommand<ExportCommandOptions>(
        commandLine.program(), "export",
        "write a clip for other tools: trim, fades, loudness normalisation, WAV/FLAC/OGG", runExport);
    command.add_option("IN", options.input, "audio file to export (any format grym-synth reads)")->required()->type_name("");
    command.add_option("OUT", options.output, "file to write (.wav, .flac or .ogg); replaced atomically")
        ->required()
        ->type_name("");
    std::vector<Choice<std::optional<ExportFormat>>> formats;
    for (ExportFormat format : allExportFormats()) formats.push_back({toString(format), format});
    addChoiceOption(command, "--format", options.format, formats,
                    "file format (default: from OUT's extension; .wav is wav24)");
    addParsedOption(
        command, "--trim", [target = &options.exportOptions](const std::string& text) { parseTrim(text, *target); },
        "keep only START:END seconds (\"0.5:3\", \"0.5:\" to the end, \":3\" the first 3 s)", "START:END");
    addNumberOption(command, "--fade-in", options.exportOptions.fadeInSeconds, "linear fade-in from silence, in seconds",
                    "SECONDS");
    addNumberOption(command, "--fade-out", options.exportOptions.fadeOutSeconds, "linear fade-out to silence, in seconds",
                    "SECONDS");
    addParsedOption(
        command, "--normalize,--normalise",
        [target = &options.exportOptions](const std::string& text) { target->normaliseLufs = parseNumber("--normalize", text); },
        "scale to this integrated loudness in LUFS (EBU R128), e.g. -14 or -23", "LUFS");
}

}  // namespace grym::cli
