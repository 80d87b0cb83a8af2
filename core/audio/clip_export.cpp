#include "audio/clip_export.h"

#include "audio/audio_file.h"
#include "audio/audio_ops.h"
#include "audio/loudness_normalise.h"
#include "common/error.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <sstream>

namespace grym {

namespace {

[[noreturn]] void exportFailure(const std::string& path, ExportSetting setting, const std::string& cause) {
    throw ExportSettingError(setting, path + ": cannot export: " + cause);
}

std::string secondsText(double seconds) {
    std::ostringstream out;
    out << seconds << " s";
    return out.str();
}

void requireSeconds(const std::string& path, ExportSetting setting, const char* name, double seconds) {
    if (!std::isfinite(seconds) || seconds < 0.0)
        exportFailure(path, setting, std::string(name) + " " + secondsText(seconds) + " is not a time of 0 s or more");
}

// Linear ramps: the fade-in starts from silence at the first frame and reaches full level
// `frames` frames later; the fade-out mirrors it, ending in silence at the last frame.
void applyFades(AudioBuffer& audio, int64_t fadeInFrames, int64_t fadeOutFrames) {
    const int64_t total = audio.frames();
    const int channels = audio.channels;
    for (int64_t f = 0; f < fadeInFrames; ++f) {
        const float gain = static_cast<float>(f) / static_cast<float>(fadeInFrames);
        for (int c = 0; c < channels; ++c) audio.samples[f * channels + c] *= gain;
    }
    for (int64_t i = 0; i < fadeOutFrames; ++i) {
        const int64_t f = total - 1 - i;
        const float gain = static_cast<float>(i) / static_cast<float>(fadeOutFrames);
        for (int c = 0; c < channels; ++c) audio.samples[f * channels + c] *= gain;
    }
}

SaveOptions saveOptionsFor(const ExportOptions& options) {
    SaveOptions save;
    save.metadata = options.metadata;
    switch (options.format) {
        case ExportFormat::Wav16:
            save.format = AudioFileFormat::Wav;
            save.encoding = SampleEncoding::Pcm16;
            break;
        case ExportFormat::Wav24:
            save.format = AudioFileFormat::Wav;
            save.encoding = SampleEncoding::Pcm24;
            break;
        case ExportFormat::WavFloat:
            save.format = AudioFileFormat::Wav;
            save.encoding = SampleEncoding::Float32;
            break;
        case ExportFormat::Flac:
            save.format = AudioFileFormat::Flac;
            save.encoding = SampleEncoding::Pcm24;
            break;
        case ExportFormat::OggVorbis:
            save.format = AudioFileFormat::OggVorbis;
            save.encoding = SampleEncoding::Float32;
            break;
    }
    return save;
}

bool sameContainer(ExportFormat a, ExportFormat b) { return std::string(fileExtension(a)) == fileExtension(b); }

struct RenderedExport {
    AudioBuffer audio;
    std::optional<LoudnessNormalisation> loudness;
};

RenderedExport renderAndReport(const AudioBuffer& clip, const ExportOptions& options, const std::string& path);

}  // namespace

const char* toString(ExportFormat format) {
    switch (format) {
        case ExportFormat::Wav16: return "wav16";
        case ExportFormat::Wav24: return "wav24";
        case ExportFormat::WavFloat: return "wavf";
        case ExportFormat::Flac: return "flac";
        case ExportFormat::OggVorbis: return "ogg";
    }
    return "?";
}

const char* displayName(ExportFormat format) {
    switch (format) {
        case ExportFormat::Wav16: return "WAV 16-bit";
        case ExportFormat::Wav24: return "WAV 24-bit";
        case ExportFormat::WavFloat: return "WAV 32-bit float";
        case ExportFormat::Flac: return "FLAC 24-bit";
        case ExportFormat::OggVorbis: return "OGG Vorbis";
    }
    return "?";
}

const char* fileExtension(ExportFormat format) {
    switch (format) {
        case ExportFormat::Wav16:
        case ExportFormat::Wav24:
        case ExportFormat::WavFloat: return ".wav";
        case ExportFormat::Flac: return ".flac";
        case ExportFormat::OggVorbis: return ".ogg";
    }
    return "";
}

std::vector<ExportFormat> allExportFormats() {
    return {ExportFormat::Wav16, ExportFormat::Wav24, ExportFormat::WavFloat, ExportFormat::Flac, ExportFormat::OggVorbis};
}

std::optional<ExportFormat> parseExportFormat(const std::string& name) {
    for (ExportFormat format : allExportFormats())
        if (name == toString(format)) return format;
    return std::nullopt;
}

std::optional<ExportFormat> exportFormatForPath(const std::string& path) {
    switch (audioFileFormatForPath(path).value_or(AudioFileFormat::FromExtension)) {
        case AudioFileFormat::Wav: return ExportFormat::Wav24;
        case AudioFileFormat::Flac: return ExportFormat::Flac;
        case AudioFileFormat::OggVorbis: return ExportFormat::OggVorbis;
        case AudioFileFormat::FromExtension: break;
    }
    return std::nullopt;
}

bool ExportResult::clipped() const { return peak > 1.0f && format != ExportFormat::WavFloat && format != ExportFormat::OggVorbis; }

namespace {

RenderedExport renderAndReport(const AudioBuffer& clip, const ExportOptions& options, const std::string& path) {
    if (clip.channels < 1 || clip.sampleRate < 1 || clip.empty())
        exportFailure(path, ExportSetting::Clip, "the clip holds no audio");
    const double duration = clip.duration();
    requireSeconds(path, ExportSetting::TrimStart, "trim start", options.trimStartSeconds);
    if (options.trimStartSeconds >= duration)
        exportFailure(path, ExportSetting::TrimStart,
                      "trim start " + secondsText(options.trimStartSeconds) + " is not before the clip's end (" +
                          secondsText(duration) + ")");
    if (options.trimEndSeconds) {
        requireSeconds(path, ExportSetting::TrimEnd, "trim end", *options.trimEndSeconds);
        if (*options.trimEndSeconds <= options.trimStartSeconds)
            exportFailure(path, ExportSetting::TrimEnd,
                          "trim end " + secondsText(*options.trimEndSeconds) + " is not after trim start " +
                              secondsText(options.trimStartSeconds));
        if (*options.trimEndSeconds > duration + 0.5 / clip.sampleRate)
            exportFailure(path, ExportSetting::TrimEnd,
                          "trim end " + secondsText(*options.trimEndSeconds) + " is past the clip's end (" +
                              secondsText(duration) + ")");
    }
    requireSeconds(path, ExportSetting::FadeIn, "fade-in", options.fadeInSeconds);
    requireSeconds(path, ExportSetting::FadeOut, "fade-out", options.fadeOutSeconds);

    RenderedExport rendered;
    AudioBuffer& out = rendered.audio;
    out = trimSeconds(clip, options.trimStartSeconds, options.trimEndSeconds.value_or(-1.0));
    if (out.empty()) exportFailure(path, ExportSetting::TrimEnd, "the trim leaves no audio");
    const auto fadeIn = static_cast<int64_t>(std::llround(options.fadeInSeconds * out.sampleRate));
    const auto fadeOut = static_cast<int64_t>(std::llround(options.fadeOutSeconds * out.sampleRate));
    if (fadeIn + fadeOut > out.frames())
        exportFailure(path, fadeIn > out.frames() ? ExportSetting::FadeIn : ExportSetting::FadeOut,
                      "fade-in " + secondsText(options.fadeInSeconds) + " and fade-out " +
                                secondsText(options.fadeOutSeconds) + " together are longer than the exported " +
                                secondsText(out.duration()));
    applyFades(out, fadeIn, fadeOut);
    if (options.normaliseLufs) {
        const std::string context = path + ": cannot export: loudness normalisation";
        try {
            rendered.loudness = normaliseLoudness(out, *options.normaliseLufs, context.c_str());
        } catch (const AudioError& e) {
            throw ExportSettingError(ExportSetting::Loudness, e.what());
        }
    }
    return rendered;
}

}  // namespace

AudioBuffer renderExport(const AudioBuffer& clip, const ExportOptions& options, const std::string& path) {
    return renderAndReport(clip, options, path).audio;
}

namespace {

// Checks the destination's name against the format, renders, and fills the result: what
// exportClip and encodeExport share before they write the file or its bytes.
ExportResult prepareExport(const AudioBuffer& clip, const std::string& path, const ExportOptions& options,
                           AudioBuffer& audio) {
    if (path.empty()) throw ExportSettingError(ExportSetting::Format, "cannot export: no file name given");
    if (const auto implied = exportFormatForPath(path); !implied || !sameContainer(*implied, options.format))
        exportFailure(path, ExportSetting::Format,
                      std::string("format ") + toString(options.format) + " (" + displayName(options.format) + ") writes " +
                          fileExtension(options.format) + " files");
    ExportResult result;
    result.path = path;
    result.format = options.format;
    RenderedExport rendered = renderAndReport(clip, options, path);
    if (rendered.loudness) {
        result.loudnessBeforeLufs = rendered.loudness->measuredLufs;
        result.gainDb = rendered.loudness->gainDb;
    }
    audio = std::move(rendered.audio);
    result.frames = audio.frames();
    result.sampleRate = audio.sampleRate;
    result.channels = audio.channels;
    result.peak = peakAmplitude(audio);
    return result;
}

}  // namespace

ExportResult exportClip(const AudioBuffer& clip, const std::string& path, const ExportOptions& options) {
    AudioBuffer audio;
    ExportResult result = prepareExport(clip, path, options, audio);
    saveAudioFile(path, audio, saveOptionsFor(options));
    return result;
}

EncodedExport encodeExport(const AudioBuffer& clip, const std::string& name, const ExportOptions& options) {
    AudioBuffer audio;
    EncodedExport encoded;
    encoded.result = prepareExport(clip, name, options, audio);
    encoded.bytes = encodeAudioBytes(audio, name, saveOptionsFor(options));
    return encoded;
}

const char* mimeType(ExportFormat format) {
    switch (format) {
        case ExportFormat::Wav16:
        case ExportFormat::Wav24:
        case ExportFormat::WavFloat: return "audio/wav";
        case ExportFormat::Flac: return "audio/flac";
        case ExportFormat::OggVorbis: return "audio/ogg";
    }
    return "application/octet-stream";
}

}  // namespace grym
