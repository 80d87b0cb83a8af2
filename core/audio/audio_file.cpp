#include "audio/audio_file.h"

#include "common/error.h"
#include "platform/atomic_file.h"

#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <sstream>
#include <system_error>

namespace fs = std::filesystem;

namespace grym {
namespace {

struct SndFileCloser {
    void operator()(SNDFILE* file) const { sf_close(file); }
};
using SndFileHandle = std::unique_ptr<SNDFILE, SndFileCloser>;

// A whole file in memory that libsndfile reads (an upload) or writes (a download), through its
// virtual I/O: no scratch file on disk.
struct MemoryFile {
    std::string bytes;
    sf_count_t position = 0;
};

sf_count_t memoryLength(void* file) { return static_cast<sf_count_t>(static_cast<MemoryFile*>(file)->bytes.size()); }

sf_count_t memorySeek(sf_count_t offset, int whence, void* file) {
    auto& f = *static_cast<MemoryFile*>(file);
    const sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? f.position : static_cast<sf_count_t>(f.bytes.size());
    f.position = std::max<sf_count_t>(0, base + offset);
    return f.position;
}

sf_count_t memoryRead(void* destination, sf_count_t count, void* file) {
    auto& f = *static_cast<MemoryFile*>(file);
    const sf_count_t available = std::max<sf_count_t>(0, static_cast<sf_count_t>(f.bytes.size()) - f.position);
    const sf_count_t n = std::min(count, available);
    if (n > 0) std::memcpy(destination, f.bytes.data() + f.position, static_cast<size_t>(n));
    f.position += n;
    return n;
}

sf_count_t memoryWrite(const void* source, sf_count_t count, void* file) {
    auto& f = *static_cast<MemoryFile*>(file);
    if (f.position + count > static_cast<sf_count_t>(f.bytes.size())) f.bytes.resize(static_cast<size_t>(f.position + count));
    std::memcpy(f.bytes.data() + f.position, source, static_cast<size_t>(count));
    f.position += count;
    return count;
}

sf_count_t memoryTell(void* file) { return static_cast<MemoryFile*>(file)->position; }

SF_VIRTUAL_IO memoryIo{memoryLength, memorySeek, memoryRead, memoryWrite, memoryTell};

[[noreturn]] void fail(const std::string& path, const std::string& cause) {
    throw AudioError("audio file '" + path + "': " + cause);
}

std::string formatSeconds(double seconds) {
    std::ostringstream out;
    out.precision(seconds < 10 ? 3 : 6);
    out << seconds << " s";
    return out.str();
}

// libsndfile's own name for a major format or an encoding it knows and we do not list.
std::string libsndfileName(int formatPart) {
    SF_FORMAT_INFO info{};
    info.format = formatPart;
    if (sf_command(nullptr, SFC_GET_FORMAT_INFO, &info, sizeof(info)) == 0 && info.name) return info.name;
    return "unknown";
}

std::string containerName(int format) {
    switch (format & SF_FORMAT_TYPEMASK) {
        case SF_FORMAT_WAV: return "WAV";
        case SF_FORMAT_WAVEX: return "WAV (extensible)";
        case SF_FORMAT_RF64: return "RF64";
        case SF_FORMAT_W64: return "W64";
        case SF_FORMAT_AIFF: return "AIFF";
        case SF_FORMAT_AU: return "AU";
        case SF_FORMAT_CAF: return "CAF";
        case SF_FORMAT_FLAC: return "FLAC";
        case SF_FORMAT_OGG: return "OGG";
        case SF_FORMAT_MPEG: return "MP3";
        case SF_FORMAT_RAW: return "RAW";
        default: return libsndfileName(format & SF_FORMAT_TYPEMASK);
    }
}

std::string encodingName(int format) {
    switch (format & SF_FORMAT_SUBMASK) {
        case SF_FORMAT_PCM_S8: return "PCM 8-bit signed";
        case SF_FORMAT_PCM_U8: return "PCM 8-bit unsigned";
        case SF_FORMAT_PCM_16: return "PCM 16-bit";
        case SF_FORMAT_PCM_24: return "PCM 24-bit";
        case SF_FORMAT_PCM_32: return "PCM 32-bit";
        case SF_FORMAT_FLOAT: return "float 32-bit";
        case SF_FORMAT_DOUBLE: return "float 64-bit";
        case SF_FORMAT_ULAW: return "u-law";
        case SF_FORMAT_ALAW: return "A-law";
        case SF_FORMAT_VORBIS: return "Vorbis";
        case SF_FORMAT_OPUS: return "Opus";
        case SF_FORMAT_MPEG_LAYER_I: return "MPEG layer I";
        case SF_FORMAT_MPEG_LAYER_II: return "MPEG layer II";
        case SF_FORMAT_MPEG_LAYER_III: return "MPEG layer III";
        default: return libsndfileName(format & SF_FORMAT_SUBMASK);
    }
}

// libsndfile's open errors, said in a user's words, with its own text after.
std::string describeOpenError(int code) {
    const std::string detail = std::string(" (libsndfile: ") + sf_error_number(code) + ")";
    switch (code) {
        case SF_ERR_UNRECOGNISED_FORMAT: return "not a recognised audio format" + detail;
        case SF_ERR_MALFORMED_FILE: return "corrupt or truncated header" + detail;
        case SF_ERR_UNSUPPORTED_ENCODING: return "unsupported encoding" + detail;
        case SF_ERR_SYSTEM: return "cannot be read" + detail;
        // The file exists and is not empty, so libsndfile's other complaints (some of them
        // misleading, e.g. "not a regular file") mean its decoders could not make sense of it.
        default: return "not a recognised audio format, or its header is corrupt or truncated" + detail;
    }
}

void checkReadablePath(const std::string& path) {
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (ec || !fs::exists(status)) fail(path, "no such file");
    if (fs::is_directory(status)) fail(path, "is a folder, not a file");
    const auto size = fs::file_size(path, ec);
    if (ec) fail(path, "cannot read its size (" + ec.message() + ")");
    if (size == 0) fail(path, "the file is empty (0 bytes)");
}

struct OpenedFile {
    std::unique_ptr<MemoryFile> memory;  // what `handle` reads from, for a file in memory; outlives it
    SndFileHandle handle;
    AudioFileInfo info;
};

// The header checks every loader applies, before any samples are decoded.
AudioFileInfo checkedHeader(const std::string& path, const SF_INFO& sfInfo, const AudioLimits& limits) {
    AudioFileInfo info;
    info.path = path;
    info.container = containerName(sfInfo.format);
    info.encoding = encodingName(sfInfo.format);
    info.sampleRate = sfInfo.samplerate;
    info.channels = sfInfo.channels;
    info.frames = sfInfo.frames;

    if (info.channels < 1 || info.channels > limits.maxChannels)
        fail(path, "unsupported channel count " + std::to_string(info.channels) + " (allowed 1.." +
                       std::to_string(limits.maxChannels) + ")");
    if (info.sampleRate < limits.minSampleRate || info.sampleRate > limits.maxSampleRate)
        fail(path, "implausible sample rate " + std::to_string(info.sampleRate) + " Hz (allowed " +
                       std::to_string(limits.minSampleRate) + ".." + std::to_string(limits.maxSampleRate) + " Hz)");
    if (info.frames <= 0) fail(path, "contains no audio (0 frames)");
    if (info.duration() > limits.maxDurationSeconds)
        fail(path, "is " + formatSeconds(info.duration()) + " long, over the limit of " +
                       formatSeconds(limits.maxDurationSeconds));
    return info;
}

OpenedFile openForReading(const std::string& path, const AudioLimits& limits) {
    checkReadablePath(path);
    SF_INFO sfInfo{};
    OpenedFile file;
    file.handle.reset(sf_open(path.c_str(), SFM_READ, &sfInfo));
    if (!file.handle) fail(path, describeOpenError(sf_error(nullptr)));
    file.info = checkedHeader(path, sfInfo, limits);
    return file;
}

OpenedFile openBytesForReading(std::string bytes, const std::string& name, const AudioLimits& limits) {
    if (bytes.empty()) fail(name, "the file is empty (0 bytes)");
    SF_INFO sfInfo{};
    OpenedFile file;
    file.memory = std::make_unique<MemoryFile>();
    file.memory->bytes = std::move(bytes);
    file.handle.reset(sf_open_virtual(&memoryIo, SFM_READ, &sfInfo, file.memory.get()));
    if (!file.handle) fail(name, describeOpenError(sf_error(nullptr)));
    file.info = checkedHeader(name, sfInfo, limits);
    return file;
}

// `firstFrame` is the position of audio's first frame within the file, for the message.
void rejectNonFinite(const std::string& path, const AudioBuffer& audio, int64_t firstFrame = 0) {
    const auto bad = std::find_if(audio.samples.begin(), audio.samples.end(),
                                  [](float v) { return !std::isfinite(v); });
    if (bad == audio.samples.end()) return;
    const auto index = static_cast<int64_t>(bad - audio.samples.begin());
    const int64_t frame = firstFrame + index / audio.channels;
    const int channel = static_cast<int>(index % audio.channels);
    fail(path, std::string("contains a non-finite sample (") + (std::isnan(*bad) ? "NaN" : "Inf") + ") at frame " +
                   std::to_string(frame) + " (" + formatSeconds(static_cast<double>(frame) / audio.sampleRate) +
                   "), channel " + std::to_string(channel));
}

AudioFileFormat formatFor(const std::string& path, AudioFileFormat requested) {
    if (requested != AudioFileFormat::FromExtension) return requested;
    if (const auto format = audioFileFormatForPath(path)) return *format;
    fail(path, "cannot save with extension '" + fs::path(path).extension().string() + "' (use .wav, .flac or .ogg)");
}

int sndfileFormat(const std::string& path, AudioFileFormat format, SampleEncoding encoding) {
    if (format == AudioFileFormat::OggVorbis) return SF_FORMAT_OGG | SF_FORMAT_VORBIS;  // lossy: no sample width
    int subtype = 0;
    switch (encoding) {
        case SampleEncoding::Pcm16: subtype = SF_FORMAT_PCM_16; break;
        case SampleEncoding::Pcm24: subtype = SF_FORMAT_PCM_24; break;
        case SampleEncoding::Float32: subtype = SF_FORMAT_FLOAT; break;
    }
    if (format == AudioFileFormat::Flac) {
        if (encoding == SampleEncoding::Float32) fail(path, "FLAC cannot store 32-bit float samples (use PCM 16 or 24)");
        return SF_FORMAT_FLAC | subtype;
    }
    return SF_FORMAT_WAV | subtype;
}

// Why `destination` cannot be saved to, before anything is written.
void checkSavablePath(const std::string& destination) {
    const fs::path dest = fs::u8path(destination);
    fs::path folder = dest.parent_path();
    if (folder.empty()) folder = ".";
    std::error_code ec;
    const auto status = fs::status(folder, ec);
    if (ec || !fs::exists(status)) fail(destination, "cannot save: the folder '" + folder.string() + "' does not exist");
    if (!fs::is_directory(status)) fail(destination, "cannot save: '" + folder.string() + "' is not a folder");
    if (fs::is_directory(fs::status(dest, ec))) fail(destination, "cannot save: the path is a folder");
}

void setString(const std::string& path, SNDFILE* file, int which, const std::string& text) {
    if (text.empty()) return;
    if (sf_set_string(file, which, text.c_str()) != 0)
        fail(path, std::string("cannot save its metadata (") + sf_strerror(file) + ")");
}

// Strings go in before any sample: FLAC and OGG Vorbis write their comments with the stream
// header and WAV keeps chunks added after the first sample out of the header.
void writeMetadata(const std::string& path, SNDFILE* file, AudioFileFormat format, const AudioMetadata& m) {
    setString(path, file, SF_STR_TITLE, m.title);
    setString(path, file, SF_STR_SOFTWARE, m.software);
    setString(path, file, SF_STR_DATE, m.date);
    if (format == AudioFileFormat::Flac || format == AudioFileFormat::OggVorbis) {  // Vorbis comments
        setString(path, file, SF_STR_COMMENT, m.settingsJson.empty() ? m.comment : m.settingsJson);
        return;
    }
    setString(path, file, SF_STR_COMMENT, m.comment);
    if (m.settingsJson.empty()) return;
    SF_CHUNK_INFO chunk{};
    std::strncpy(chunk.id, kSettingsChunkId, sizeof(chunk.id) - 1);
    chunk.id_size = static_cast<unsigned>(std::strlen(kSettingsChunkId));
    std::string data = m.settingsJson;
    chunk.datalen = static_cast<unsigned>(data.size());
    chunk.data = data.data();
    if (const int err = sf_set_chunk(file, &chunk); err != SF_ERR_NO_ERROR)
        fail(path, std::string("cannot save its settings chunk (") + sf_error_number(err) + ")");
}

std::string readString(SNDFILE* file, int which) {
    const char* text = sf_get_string(file, which);
    return text ? text : "";
}

// Our settings chunk of a WAV file, or "" when it has none. Chunks are padded to an even (or
// 4-byte) length with NULs, which are dropped.
std::string readSettingsChunk(SNDFILE* file) {
    SF_CHUNK_INFO wanted{};
    std::strncpy(wanted.id, kSettingsChunkId, sizeof(wanted.id) - 1);
    wanted.id_size = static_cast<unsigned>(std::strlen(kSettingsChunkId));
    SF_CHUNK_ITERATOR* it = sf_get_chunk_iterator(file, &wanted);
    if (!it) return {};
    SF_CHUNK_INFO found{};
    if (sf_get_chunk_size(it, &found) != SF_ERR_NO_ERROR || found.datalen == 0) return {};
    std::string data(found.datalen, '\0');
    found.data = data.data();
    if (sf_get_chunk_data(it, &found) != SF_ERR_NO_ERROR) return {};
    data.resize(std::min<size_t>(data.size(), found.datalen));
    while (!data.empty() && data.back() == '\0') data.pop_back();
    return data;
}

}  // namespace

AudioMetadata readAudioMetadata(const std::string& path) {
    OpenedFile file = openForReading(path, AudioLimits{});
    SNDFILE* handle = file.handle.get();
    AudioMetadata m;
    m.title = readString(handle, SF_STR_TITLE);
    m.software = readString(handle, SF_STR_SOFTWARE);
    m.date = readString(handle, SF_STR_DATE);
    m.comment = readString(handle, SF_STR_COMMENT);
    if (file.info.container == "FLAC" || file.info.container == "OGG") {
        if (!m.comment.empty() && m.comment.front() == '{') {
            m.settingsJson = m.comment;
            m.comment.clear();
        }
    } else {
        m.settingsJson = readSettingsChunk(handle);
    }
    return m;
}

const char* toString(SampleEncoding encoding) {
    switch (encoding) {
        case SampleEncoding::Pcm16: return "pcm16";
        case SampleEncoding::Pcm24: return "pcm24";
        case SampleEncoding::Float32: return "float32";
    }
    return "?";
}

AudioFileInfo probeAudioFile(const std::string& path, const AudioLimits& limits) {
    return openForReading(path, limits).info;
}

struct AudioFileReader::State {
    State(OpenedFile file, const AudioLimits& limits)
        : memory(std::move(file.memory)),
          handle(std::move(file.handle)),
          info(std::move(file.info)),
          maxFrames(static_cast<int64_t>(limits.maxDurationSeconds * info.sampleRate) + 1),
          maxDurationSeconds(limits.maxDurationSeconds) {}

    std::unique_ptr<MemoryFile> memory;  // declared before `handle`, so it is destroyed after it
    SndFileHandle handle;
    AudioFileInfo info;
    int64_t maxFrames = 0;
    int64_t framesRead = 0;
    double maxDurationSeconds = 0;
};

AudioFileReader::AudioFileReader(const std::string& path, const AudioLimits& limits)
    : state_(std::make_unique<State>(openForReading(path, limits), limits)) {}

AudioFileReader::AudioFileReader(std::unique_ptr<State> state) : state_(std::move(state)) {}

AudioFileReader AudioFileReader::fromBytes(std::string bytes, const std::string& name, const AudioLimits& limits) {
    return AudioFileReader(std::make_unique<State>(openBytesForReading(std::move(bytes), name, limits), limits));
}

AudioFileReader::~AudioFileReader() = default;
AudioFileReader::AudioFileReader(AudioFileReader&&) noexcept = default;
AudioFileReader& AudioFileReader::operator=(AudioFileReader&&) noexcept = default;

const AudioFileInfo& AudioFileReader::info() const { return state_->info; }
int64_t AudioFileReader::framesRead() const { return state_->framesRead; }

AudioBuffer AudioFileReader::read(int64_t maxFrames) {
    State& s = *state_;
    const std::string& path = s.info.path;
    if (maxFrames < 1) fail(path, "read: block size " + std::to_string(maxFrames) + " is not positive");
    AudioBuffer block;
    block.sampleRate = s.info.sampleRate;
    block.channels = s.info.channels;
    block.samples.resize(static_cast<size_t>(maxFrames) * block.channels);
    // The header's frame count is only a hint (compressed streams estimate it, truncated
    // files overstate it), so the limit is enforced on what is actually decoded.
    const sf_count_t got = sf_readf_float(s.handle.get(), block.samples.data(), maxFrames);
    if (const int err = sf_error(s.handle.get()); err != SF_ERR_NO_ERROR)
        fail(path, "decoding failed after " + std::to_string(s.framesRead) + " frames (" + sf_strerror(s.handle.get()) + ")");
    block.samples.resize(static_cast<size_t>(std::max<sf_count_t>(got, 0)) * block.channels);
    if (s.framesRead + block.frames() > s.maxFrames)
        fail(path, "decodes to more than the limit of " + formatSeconds(s.maxDurationSeconds));
    rejectNonFinite(path, block, s.framesRead);
    s.framesRead += block.frames();
    return block;
}

namespace {

AudioBuffer readWhole(AudioFileReader& reader, const AudioLimits& limits, AudioFileInfo* infoOut) {
    const std::string& path = reader.info().path;
    AudioBuffer audio;
    audio.sampleRate = reader.info().sampleRate;
    audio.channels = reader.info().channels;
    const auto expected = std::min<int64_t>(reader.info().frames, static_cast<int64_t>(limits.maxDurationSeconds * audio.sampleRate) + 1);
    audio.samples.reserve(static_cast<size_t>(expected) * audio.channels);
    for (;;) {
        const AudioBuffer block = reader.read(1 << 16);
        if (block.empty()) break;
        audio.samples.insert(audio.samples.end(), block.samples.begin(), block.samples.end());
    }
    if (audio.empty()) fail(path, "contains no audio (0 frames decoded)");
    if (infoOut) {
        *infoOut = reader.info();
        infoOut->frames = audio.frames();
    }
    return audio;
}

}  // namespace

AudioBuffer loadAudioFile(const std::string& path, const AudioLimits& limits, AudioFileInfo* info) {
    AudioFileReader reader(path, limits);
    return readWhole(reader, limits, info);
}

AudioBuffer decodeAudioBytes(std::string bytes, const std::string& name, const AudioLimits& limits, AudioFileInfo* info) {
    AudioFileReader reader = AudioFileReader::fromBytes(std::move(bytes), name, limits);
    return readWhole(reader, limits, info);
}

std::string encodeAudioBytes(const AudioBuffer& audio, const std::string& path, const SaveOptions& options) {
    if (audio.channels < 1) fail(path, "cannot save: the buffer has " + std::to_string(audio.channels) + " channels");
    if (audio.sampleRate < 1) fail(path, "cannot save: the buffer's sample rate is " + std::to_string(audio.sampleRate));
    if (audio.samples.size() % audio.channels != 0)
        fail(path, "cannot save: " + std::to_string(audio.samples.size()) + " samples do not divide into " +
                       std::to_string(audio.channels) + " channels");
    if (audio.empty()) fail(path, "cannot save: the buffer holds no audio");
    rejectNonFinite(path, audio);

    const AudioFileFormat format = formatFor(path, options.format);
    SF_INFO sfInfo{};
    sfInfo.samplerate = audio.sampleRate;
    sfInfo.channels = audio.channels;
    sfInfo.format = sndfileFormat(path, format, options.encoding);
    if (!sf_format_check(&sfInfo))
        fail(path, "cannot save: " + containerName(sfInfo.format) + " " + encodingName(sfInfo.format) + " does not allow " +
                       std::to_string(audio.channels) + " channels at " + std::to_string(audio.sampleRate) + " Hz");

    MemoryFile memory;
    {
        SndFileHandle out(sf_open_virtual(&memoryIo, SFM_WRITE, &sfInfo, &memory));
        if (!out) fail(path, std::string("cannot save: ") + sf_strerror(nullptr));
        sf_command(out.get(), SFC_SET_CLIPPING, nullptr, SF_TRUE);
        if (!options.metadata.empty()) writeMetadata(path, out.get(), format, options.metadata);
        const sf_count_t written = sf_writef_float(out.get(), audio.samples.data(), audio.frames());
        if (written != audio.frames())
            fail(path, "cannot save: wrote " + std::to_string(written) + " of " + std::to_string(audio.frames()) +
                           " frames (" + sf_strerror(out.get()) + ")");
        SNDFILE* raw = out.release();
        if (const int err = sf_close(raw); err != 0) fail(path, std::string("cannot save: ") + sf_error_number(err));
    }
    return std::move(memory.bytes);
}

void saveAudioFile(const std::string& path, const AudioBuffer& audio, const SaveOptions& options) {
    const std::string bytes = encodeAudioBytes(audio, path, options);
    checkSavablePath(path);
    try {
        writeFileAtomically(fs::u8path(path), bytes.data(), bytes.size());
    } catch (const std::system_error& e) {
        fail(path, std::string("cannot save: ") + e.what());
    }
}

std::optional<AudioFileFormat> audioFileFormatForPath(const std::string& path) {
    std::string ext = fs::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (ext == ".wav") return AudioFileFormat::Wav;
    if (ext == ".flac") return AudioFileFormat::Flac;
    if (ext == ".ogg" || ext == ".oga") return AudioFileFormat::OggVorbis;
    return std::nullopt;
}

}  // namespace grym
