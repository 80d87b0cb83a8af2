#pragma once
// Exporting a clip for other tools: trim, fade in/out and loudness normalisation, written
// as WAV (16/24-bit PCM or 32-bit float), FLAC (24-bit) or OGG Vorbis. The file is written
// atomically (saveAudioFile), or encoded in memory for a download (encodeExport); every error
// is an ExportSettingError (an AudioError) naming the file and the setting.
#include "audio/audio_buffer.h"
#include "audio/audio_file.h"
#include "common/error.h"

#include <optional>
#include <string>
#include <vector>

namespace grym {

enum class ExportFormat { Wav16, Wav24, WavFloat, Flac, OggVorbis };

// The short names the CLI, the settings and the dialog use: wav16, wav24, wavf, flac, ogg.
const char* toString(ExportFormat format);
std::optional<ExportFormat> parseExportFormat(const std::string& name);
std::vector<ExportFormat> allExportFormats();
// "WAV 24-bit", "OGG Vorbis", ... for menus.
const char* displayName(ExportFormat format);
// ".wav", ".flac", ".ogg"
const char* fileExtension(ExportFormat format);
// The format a path's extension implies (.wav: wav24, .flac, .ogg/.oga); nullopt otherwise.
std::optional<ExportFormat> exportFormatForPath(const std::string& path);

struct ExportOptions {
    ExportFormat format = ExportFormat::Wav24;
    double trimStartSeconds = 0.0;
    std::optional<double> trimEndSeconds;    // none: to the end of the clip
    double fadeInSeconds = 0.0;               // linear, from silence at the first frame
    double fadeOutSeconds = 0.0;              // linear, to silence at the last frame
    std::optional<double> normaliseLufs;      // integrated loudness target (EBU R128), -70..0
    AudioMetadata metadata;                   // written into the file when not empty (provenance)
};

// The setting an export refused, so a caller that took each setting from a field of its own
// (an HTTP query parameter) can name that field.
enum class ExportSetting { Clip, Format, TrimStart, TrimEnd, FadeIn, FadeOut, Loudness };

class ExportSettingError : public AudioError {
public:
    ExportSettingError(ExportSetting setting, const std::string& message) : AudioError(message), setting_(setting) {}
    ExportSetting setting() const { return setting_; }

private:
    ExportSetting setting_;
};

struct ExportResult {
    std::string path;
    int64_t frames = 0;
    int sampleRate = 0;
    int channels = 0;
    std::optional<double> loudnessBeforeLufs;  // set when normalising
    double gainDb = 0.0;
    float peak = 0.0f;                        // after processing; above 1 clips in PCM formats
    bool clipped() const;                     // the peak is above full scale in a PCM format
    ExportFormat format = ExportFormat::Wav24;
    double duration() const { return sampleRate > 0 ? static_cast<double>(frames) / sampleRate : 0.0; }
};

// The processed audio (trim, then fades, then normalisation), without writing anything.
// `context` names the destination in error messages. Throws AudioError for a setting that
// does not fit the clip (a trim outside it, fades longer than what is left, a bad target).
AudioBuffer renderExport(const AudioBuffer& clip, const ExportOptions& options, const std::string& context);

// renderExport, then writes `path` atomically in options.format. Refuses a path whose
// extension names another format (clip.wav as flac) so a file never lies about its contents.
ExportResult exportClip(const AudioBuffer& clip, const std::string& path, const ExportOptions& options);

// renderExport, then the bytes exportClip would write, for a download. `name` (a file name
// with the format's extension, checked like exportClip's path) stands for the file in errors
// and becomes result.path.
struct EncodedExport {
    std::string bytes;
    ExportResult result;
};
EncodedExport encodeExport(const AudioBuffer& clip, const std::string& name, const ExportOptions& options);

// The MIME type of a format's files: audio/wav, audio/flac, audio/ogg.
const char* mimeType(ExportFormat format);

}  // namespace grym
