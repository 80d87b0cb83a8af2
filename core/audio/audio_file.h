#pragma once
// Reading and writing audio files through libsndfile.
//
// Loading accepts whatever libsndfile decodes (WAV, FLAC, OGG/Vorbis, MP3, AIFF, ...);
// saving writes WAV (16/24-bit PCM, 32-bit float), FLAC (16/24-bit) or OGG Vorbis. Every failure is
// a grym::AudioError whose message names the file and the cause.
#include "audio/audio_buffer.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace grym {

// What a loader refuses. Checked from the header before any samples are decoded, so an
// oversized file is rejected without reading it.
struct AudioLimits {
    double maxDurationSeconds = 4.0 * 3600.0;
    int minSampleRate = 1000;
    int maxSampleRate = 768000;
    int maxChannels = 64;
};

// A file's header, as libsndfile reports it.
struct AudioFileInfo {
    std::string path;
    std::string container;  // "WAV", "FLAC", "OGG", "MP3", "AIFF", ...
    std::string encoding;   // "PCM 16-bit", "float 32-bit", "Vorbis", "MPEG layer III", ...
    int sampleRate = 0;
    int channels = 0;
    int64_t frames = 0;     // from the header; compressed formats may only estimate it
    double duration() const { return sampleRate > 0 ? static_cast<double>(frames) / sampleRate : 0.0; }
};

// Reads the header only; applies the same checks as loadAudioFile except the sample scan.
AudioFileInfo probeAudioFile(const std::string& path, const AudioLimits& limits = {});

// Decodes the whole file to float32 in [-1, 1] (PCM) or as stored (float files).
// Refuses NaN/Inf samples, naming the first one's position. `info`, when given, receives
// the header (with frames set to the number actually decoded).
AudioBuffer loadAudioFile(const std::string& path, const AudioLimits& limits = {},
                          AudioFileInfo* info = nullptr);
// loadAudioFile for a whole file held in memory (an HTTP upload): no scratch file on disk.
// `name` (the upload's file name) stands for the file in messages.
AudioBuffer decodeAudioBytes(std::string bytes, const std::string& name, const AudioLimits& limits = {},
                             AudioFileInfo* info = nullptr);

// Reads a file block by block, for long recordings processed in windows with bounded
// memory. Opening applies every header check of loadAudioFile; each block is checked for
// NaN/Inf (the error names the frame within the whole file) and the duration limit is
// enforced on what is decoded.
class AudioFileReader {
public:
    explicit AudioFileReader(const std::string& path, const AudioLimits& limits = {});
    // The same over a whole file held in memory (an HTTP upload); `name` stands for it in messages.
    static AudioFileReader fromBytes(std::string bytes, const std::string& name, const AudioLimits& limits = {});
    ~AudioFileReader();
    AudioFileReader(AudioFileReader&&) noexcept;
    AudioFileReader& operator=(AudioFileReader&&) noexcept;

    const AudioFileInfo& info() const;
    // Up to maxFrames frames; an empty buffer once the file is exhausted.
    AudioBuffer read(int64_t maxFrames);
    int64_t framesRead() const;

private:
    struct State;
    explicit AudioFileReader(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

enum class AudioFileFormat { FromExtension, Wav, Flac, OggVorbis };
// The format a path's extension names (.wav, .flac, .ogg/.oga, any case); none for others.
std::optional<AudioFileFormat> audioFileFormatForPath(const std::string& path);
enum class SampleEncoding { Pcm16, Pcm24, Float32 };

// Text carried inside a file, for the provenance of generated clips.
//   WAV:  title/comment/software/date in the LIST/INFO chunk (INAM, ICMT, ISFT, ICRD) and
//         settingsJson in a chunk of its own, `kSettingsChunkId`.
//   FLAC and OGG Vorbis: Vorbis comments TITLE, SOFTWARE, DATE; libsndfile writes only the
//         standard comment fields, so settingsJson travels as COMMENT (and `comment` is not written).
// Reading gives back what was written; a file without our chunk or comment has empty fields.
struct AudioMetadata {
    std::string title;
    std::string comment;
    std::string software;
    std::string date;
    std::string settingsJson;
    bool empty() const { return title.empty() && comment.empty() && software.empty() && date.empty() && settingsJson.empty(); }
};

// The WAV chunk id that holds AudioMetadata::settingsJson (a JSON object, UTF-8).
inline constexpr const char* kSettingsChunkId = "gsJS";

struct SaveOptions {
    AudioFileFormat format = AudioFileFormat::FromExtension;  // .wav / .flac / .ogg
    SampleEncoding encoding = SampleEncoding::Pcm16;          // FLAC takes Pcm16 or Pcm24; Vorbis ignores it
    AudioMetadata metadata;                                   // written when not empty
};

// The metadata of any file libsndfile opens (strings it knows and our settings chunk).
// Throws AudioError like probeAudioFile when the file cannot be opened.
AudioMetadata readAudioMetadata(const std::string& path);

// Encodes in memory, then writes a temporary file beside `path`, flushes it and renames it over
// `path` (platform/atomic_file.h), so a failed save leaves any existing file untouched. PCM
// output clips samples outside [-1, 1]; non-finite samples are refused.
void saveAudioFile(const std::string& path, const AudioBuffer& audio, const SaveOptions& options = {});
// The bytes saveAudioFile would write (an HTTP download), with the same checks; `name` picks the
// format by its extension when options.format is FromExtension, and stands for it in messages.
std::string encodeAudioBytes(const AudioBuffer& audio, const std::string& name, const SaveOptions& options = {});

const char* toString(SampleEncoding encoding);

}  // namespace grym
