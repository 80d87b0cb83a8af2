#include "analysis/dsp_features.h"
#include "analysis/wav2vec2_analysis_service.h"
#include "audio/audio_file.h"
#include "common/error.h"
#include "core/dsp/dsp_signals.h"
#include "core/measurement_bounds.h"
#include "core/numeric_bounds.h"
#include "models/wav2vec2/model.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <random>

namespace {

const std::string kBaseCase = std::string(GRYM_TEST_DATA_DIR) + "/golden/wav2vec2_base";
// The DSP features are measured at the audio's own rate (only the model gets 16 kHz), so a
// duration is exact up to rounding of frames / rate.
constexpr double kResampledDurationSlack = 1e-9;
using grym::test::kPitchTolerance;

// Silence regions end within half a silence frame plus half a hop of a true edge (dsp_silence.h).
double silenceEdgeResolution() {
    const grym::dsp::SilenceOptions options;
    return (options.frameSeconds + options.hopSeconds) / 2;
}

// Stereo tone at a rate the model does not use, so the service must mix down and resample.
grym::AudioBuffer stereoTone(double seconds, double hz, int rate = 44100) {
    grym::AudioBuffer b;
    b.sampleRate = rate;
    b.channels = 2;
    const auto frames = static_cast<size_t>(seconds * rate);
    for (size_t i = 0; i < frames; ++i) {
        const float v = 0.4f * static_cast<float>(std::sin(2 * M_PI * hz * i / rate));
        b.samples.push_back(v);
        b.samples.push_back(v);
    }
    return b;
}

// A folder of its own under the temp directory, removed with everything in it.
struct TempFolder {
    std::filesystem::path path;
    explicit TempFolder(const std::string& tag)
        : path(std::filesystem::temp_directory_path() / ("grym-" + tag + "-" + std::to_string(std::random_device{}()))) {
        std::filesystem::create_directories(path);
    }
    ~TempFolder() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string file(const std::string& name) const { return (path / name).string(); }
};

grym::AudioBuffer monoBuffer(std::vector<float> samples, int rate) {
    grym::AudioBuffer b;
    b.sampleRate = rate;
    b.channels = 1;
    b.samples = std::move(samples);
    return b;
}

grym::TaskResult analyse(grym::Wav2vec2AnalysisService& service, grym::TaskInput input) {
    grym::CancellationToken token;
    return service.run(input, {}, token);
}

grym::TaskResult analyseFile(grym::Wav2vec2AnalysisService& service, const std::string& path) {
    grym::TaskInput input;
    input.parameters["path"] = path;
    return analyse(service, std::move(input));
}

}  // namespace

TEST_CASE("without a model the service still gives DSP features and says the model part is missing", "[analysis]") {
    grym::Wav2vec2AnalysisService service;
    CHECK(service.id() == "wav2vec2");
    service.load();
    CHECK(service.isReady());
    grym::TaskInput input;
    input.audio = stereoTone(2.0, 440.0);
    std::vector<std::string> stages;
    grym::CancellationToken token;
    const auto r = service.run(input, [&](const grym::ProgressUpdate& u) { stages.push_back(u.stage); }, token);
    const auto& f = r.data["features"];
    REQUIRE(f["pitch_hz"].is_number());
    CHECK(f["pitch_hz"].get<double>() == Approx(440.0).epsilon(kPitchTolerance));
    CHECK(f["duration_s"].get<double>() == Approx(2.0).margin(kResampledDurationSlack));
    CHECK(f["wav2vec2"].is_null());
    CHECK_FALSE(r.data["model"]["available"].get<bool>());
    CHECK_THAT(r.data["model"]["missing"].get<std::string>(), Catch::Contains("model"));
    CHECK(r.data["patterns"]["segments"]["source"] == "dsp log-mel");
    for (const char* key : {"load_seconds", "analysis_seconds", "real_time_factor", "peak_memory_bytes"}) CHECK(r.metrics.contains(key));
    CHECK(stages.front() == "reading");
    CHECK(stages.back() == "done");
}

TEST_CASE("with a model the service adds embedding statistics, a transcript and embedding segments", "[analysis]") {
    grym::Wav2vec2ServiceOptions options;
    options.modelDir = kBaseCase;
    options.analysis.windowSeconds = 1.0;
    grym::Wav2vec2AnalysisService service(options);
    service.load();
    CHECK(service.info().loadSeconds > 0);
    CHECK(service.estimatedMemoryBytes() > 0);
    grym::TaskInput input;
    input.audio = stereoTone(2.5, 300.0, 22050);
    grym::CancellationToken token;
    int windows = 0;
    const auto r = service.run(input, [&](const grym::ProgressUpdate& u) { if (u.stage == "wav2vec2") windows = u.totalSteps; }, token);
    CHECK(windows == 2);
    const auto& w = r.data["features"]["wav2vec2"];
    REQUIRE(w.is_object());
    CHECK(w["layers"].size() == 3);
    CHECK(r.data["features"].contains("transcript"));
    CHECK(r.data["patterns"]["segments"]["source"] == "wav2vec2 embeddings");
    CHECK(r.data["model"]["available"].get<bool>());
}

TEST_CASE("the service refuses a task without audio and honours cancellation", "[analysis]") {
    grym::Wav2vec2AnalysisService service;
    service.load();
    grym::CancellationToken token;
    CHECK_THROWS_AS(service.run(grym::TaskInput{}, {}, token), grym::TaskError);
    grym::TaskInput input;
    input.audio = stereoTone(1.0, 440.0);
    token.cancel();
    CHECK_THROWS_AS(service.run(input, {}, token), grym::TaskCancelled);
}

TEST_CASE("a service pointed at a broken model folder fails to load with the cause", "[analysis]") {
    grym::Wav2vec2ServiceOptions options;
    options.modelDir = std::string(GRYM_TEST_DATA_DIR) + "/wav2vec2_full_config";  // config only, no weights
    grym::Wav2vec2AnalysisService service(options);
    CHECK_THROWS_WITH(service.load(), Catch::Contains("model.safetensors"));
    CHECK(service.info().status == grym::ServiceStatus::Failed);
    CHECK_THAT(service.info().statusMessage, Catch::Contains("model.safetensors"));
}

TEST_CASE("a 120 BPM click track analyses to 120 BPM within 2 %", "[analysis]") {
    grym::Wav2vec2AnalysisService service;
    service.load();
    for (int rate : {44100, 16000}) {
        INFO(rate << " Hz");
        grym::TaskInput input;
        input.audio = monoBuffer(grym::test::clickTrack(120, 12.0, rate), rate);
        const auto r = analyse(service, input);
        REQUIRE(r.data["features"]["tempo_bpm"].is_number());
        CHECK(r.data["features"]["tempo_bpm"].get<double>() == Approx(120.0).epsilon(0.02));
        CHECK(r.data["features"]["measured_at"]["sample_rate_hz"] == rate);
        // One onset per click: 24 clicks, from 0.1 s every 0.5 s, in 12 s. (Known limit, in
        // docs/ANALYSIS.md: at 16 kHz aubio's hfc onsets find only some of these clicks.)
        if (rate == 44100) CHECK(r.data["patterns"]["onsets_s"].size() == 24);
    }
}

TEST_CASE("a file path is decoded block by block and gives the same analysis as the decoded buffer", "[analysis]") {
    TempFolder folder("analysis-path");
    grym::AudioBuffer stereo = stereoTone(3.0, 330.0, 22050);
    const std::string path = folder.file("tone.wav");
    grym::saveAudioFile(path, stereo, {grym::AudioFileFormat::Wav, grym::SampleEncoding::Float32});
    grym::Wav2vec2AnalysisService service;
    service.load();
    grym::TaskInput memory;
    memory.audio = stereo;
    const auto fromMemory = analyse(service, memory);
    const auto fromFile = analyseFile(service, path);
    const auto& a = fromMemory.data["features"];
    const auto& b = fromFile.data["features"];
    for (const char* key : {"duration_s", "rms", "peak", "pitch_hz", "spectral_centroid_hz", "loudness_lufs", "zero_crossing_rate"}) {
        INFO(key);
        REQUIRE(b[key].is_number());
        // float32 WAV holds the samples exactly and the reader returns the same half-second
        // blocks as the buffer's slices: the same computation, bit for bit.
        CHECK(b[key].get<double>() == a[key].get<double>());
    }
    CHECK(fromFile.metrics["audio_seconds"].get<double>() == Approx(3.0));
    CHECK_THROWS_AS(analyseFile(service, folder.file("missing.wav")), grym::AudioError);
    grym::TaskInput badPath;
    badPath.parameters["path"] = 42;
    CHECK_THROWS_AS(analyse(service, badPath), grym::TaskError);
}

TEST_CASE("corrupt and truncated files give a clear error or the audio that is there, never a crash", "[analysis]") {
    TempFolder folder("analysis-bad-files");
    grym::Wav2vec2AnalysisService service;
    service.load();

    const std::string garbage = folder.file("garbage.wav");
    std::ofstream(garbage, std::ios::binary) << std::string(4096, '\x5a');
    CHECK_THROWS_WITH(analyseFile(service, garbage), Catch::Contains("garbage.wav"));
    const std::string empty = folder.file("empty.wav");
    std::ofstream(empty, std::ios::binary).close();
    CHECK_THROWS_WITH(analyseFile(service, empty), Catch::Contains("empty.wav"));

    // A WAV cut in half: its header promises 4 s, the data holds about 2 s.
    const std::string whole = folder.file("whole.wav");
    grym::saveAudioFile(whole, monoBuffer(grym::test::sine(440.0, 4.0, 16000, 0.5), 16000));
    std::ifstream in(whole, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string cut = folder.file("cut.wav");
    std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    // What is left: half the file less its header, in whole 16-bit samples.
    const size_t headerBytes = bytes.size() - 4 * 16000 * sizeof(int16_t);
    const double keptSeconds = std::floor((bytes.size() / 2 - headerBytes) / sizeof(int16_t)) / 16000;
    try {
        const auto r = analyseFile(service, cut);
        CHECK(r.data["features"]["duration_s"].get<double>() == Approx(keptSeconds).margin(1.0 / 16000));
        CHECK(r.data["features"]["pitch_hz"].get<double>() == Approx(440.0).epsilon(kPitchTolerance));
    } catch (const grym::AudioError& e) {
        CHECK_THAT(std::string(e.what()), Catch::Contains("cut.wav"));
    }
}

TEST_CASE("a ten-minute file is analysed in bounded memory, never decoded whole", "[analysis]") {
    // 10 minutes at 8 kHz: a one-second 440 Hz burst every 5 s, silence between.
    const int rate = 8000;
    const double seconds = 600.0;
    std::vector<float> samples(static_cast<size_t>(seconds * rate), 0.0f);
    for (size_t i = 0; i < samples.size(); ++i)
        if (i % (5 * rate) < static_cast<size_t>(rate)) samples[i] = 0.5f * static_cast<float>(std::sin(2 * M_PI * 440.0 * i / rate));
    TempFolder folder("analysis-long");
    const std::string path = folder.file("long.wav");
    grym::saveAudioFile(path, monoBuffer(std::move(samples), rate));

    grym::Wav2vec2AnalysisService service;
    service.load();
    const auto r = analyseFile(service, path);
    const auto& f = r.data["features"];
    CHECK(f["duration_s"].get<double>() == Approx(seconds));
    CHECK(f["pitch_hz"].get<double>() == Approx(440.0).epsilon(kPitchTolerance));
    // One second in five is tone: only the pitch frames whose window reaches across a burst's
    // two edges (buffer / hop + 1 each) may go either way.
    const grym::dsp::PitchOptions pitch;
    const double frames = seconds * rate / pitch.hopSize, bursts = seconds / 5;
    const double edgeFrames = 2 * bursts * (static_cast<double>(pitch.bufferSize) / pitch.hopSize + 1);
    CHECK(f["voiced_ratio"].get<double>() == Approx(0.2).margin(edgeFrames / frames));
    // Every 4 s gap between bursts is a silent region (the last one runs to the end).
    CHECK(r.data["patterns"]["silent_regions"].size() == 120);
    // The whole file is 4.8 M samples; the pipeline holds a half-second block and the DSP
    // frames in progress.
    const auto held = r.metrics["peak_buffered_samples"].get<uint64_t>();
    INFO("peak buffered samples " << held);
    CHECK(held > 0);
    CHECK(held < 2 * 16000);
}

TEST_CASE("with a model a long file is analysed window by window, holding at most a window and a remainder", "[analysis]") {
    const int rate = 16000;
    std::vector<float> samples = grym::test::sine(220.0, 40.0, rate, 0.3);
    TempFolder folder("analysis-model-long");
    const std::string path = folder.file("tone.flac");
    grym::saveAudioFile(path, monoBuffer(samples, rate));
    grym::Wav2vec2ServiceOptions options;
    options.modelDir = kBaseCase;
    options.analysis.windowSeconds = 2.0;
    grym::Wav2vec2AnalysisService service(options);
    service.load();
    grym::CancellationToken token;
    int windows = 0;
    grym::TaskInput input;
    input.parameters["path"] = path;
    const auto r = service.run(input, [&](const grym::ProgressUpdate& u) { if (u.stage == "wav2vec2") windows = u.step; }, token);
    CHECK(windows == 20);
    CHECK(r.data["features"]["wav2vec2"]["windows"].get<int>() == 20);
    CHECK(r.data["features"]["wav2vec2"]["frames"].get<int64_t>() > 40 * 49);
    const auto held = r.metrics["peak_buffered_samples"].get<uint64_t>();
    INFO("peak buffered samples " << held);
    // a 2 s window + the 1 s minimum remainder + half-second blocks, far below the 640 k samples of the file
    CHECK(held < 5 * rate);

    // The same samples (the file's 16-bit codes, decoded) from memory give the same embedding
    // statistics, to the rounding of two float32 evaluations of the model (numeric_bounds.h).
    grym::TaskInput memory;
    memory.audio = grym::loadAudioFile(path);
    const auto m = analyse(service, memory);
    std::vector<torch::Tensor> weights;
    for (const auto& [name, tensor] : grym::Wav2vec2Model::load(kBaseCase).stateDict()) weights.push_back(tensor);
    const double bound = grym::test::roundingBound(torch::kFloat32, grym::test::networkSize(weights));
    const auto& fileLayers = r.data["features"]["wav2vec2"]["layers"];
    const auto& memoryLayers = m.data["features"]["wav2vec2"]["layers"];
    REQUIRE(fileLayers.size() == memoryLayers.size());
    for (size_t l = 0; l < fileLayers.size(); ++l)
        CHECK(fileLayers[l]["mean_frame_norm"].get<double>() == Approx(memoryLayers[l]["mean_frame_norm"].get<double>()).epsilon(bound));
}

TEST_CASE("audio too short for the model is refused with the model's receptive field", "[analysis]") {
    grym::Wav2vec2ServiceOptions options;
    options.modelDir = kBaseCase;
    grym::Wav2vec2AnalysisService service(options);
    service.load();
    grym::TaskInput input;
    input.audio = monoBuffer(std::vector<float>(100, 0.1f), 16000);
    CHECK_THROWS_WITH(analyse(service, input), Catch::Contains("receptive field"));
}

TEST_CASE("espeak-ng speech between silences: the silent regions are found and the speech is not silent", "[analysis]") {
    if (std::system("command -v espeak-ng > /dev/null 2>&1") != 0) {
        WARN("espeak-ng is not installed (scripts/setup.sh installs it): speech test skipped");
        return;
    }
    TempFolder folder("analysis-speech");
    const std::string spoken = folder.file("spoken.wav");
    const std::string command = "espeak-ng -w '" + spoken + "' 'the quick brown fox jumps over the lazy dog' > /dev/null 2>&1";
    REQUIRE(std::system(command.c_str()) == 0);
    const grym::AudioBuffer speech = grym::loadAudioFile(spoken);
    REQUIRE(speech.channels == 1);
    // 2 s of silence, the speech, 2 s of silence.
    const auto pad = static_cast<size_t>(2 * speech.sampleRate);
    grym::AudioBuffer padded = monoBuffer(std::vector<float>(pad, 0.0f), speech.sampleRate);
    padded.samples.insert(padded.samples.end(), speech.samples.begin(), speech.samples.end());
    padded.samples.insert(padded.samples.end(), pad, 0.0f);
    const std::string path = folder.file("padded.wav");
    grym::saveAudioFile(path, padded);

    grym::Wav2vec2AnalysisService service;
    service.load();
    const auto r = analyseFile(service, path);
    const double total = padded.duration(), speechSeconds = speech.duration();
    const auto& regions = r.data["patterns"]["silent_regions"];
    REQUIRE(regions.size() >= 2);
    const auto& first = regions.front();
    const auto& last = regions.back();
    // The padding is digital silence: its regions reach its 2 s within the silence frames'
    // resolution (the resampler's ringing is 97 dB down, far under the threshold). On the
    // speech's side they may reach into it while it fades in or out, never past half of it.
    const double padSeconds = 2.0;
    CHECK(first["start"].get<double>() == 0.0);
    CHECK(first["end"].get<double>() >= padSeconds - silenceEdgeResolution());
    CHECK(first["end"].get<double>() <= padSeconds + 0.5 * speechSeconds);
    CHECK(last["end"].get<double>() == Approx(total).margin(kResampledDurationSlack));
    CHECK(last["start"].get<double>() <= total - padSeconds + silenceEdgeResolution());
    CHECK(last["start"].get<double>() >= total - padSeconds - 0.5 * speechSeconds);
    // Most of the speech is sound, not silence: a sentence read fluently pauses for well under
    // 40 % of its length.
    double silent = 0;
    for (const auto& region : regions) silent += region["end"].get<double>() - region["start"].get<double>();
    CHECK(total - silent >= 0.6 * speechSeconds);
    CHECK(r.data["features"]["voiced_ratio"].get<double>() > 0.1);
    REQUIRE(r.data["features"]["pitch_hz"].is_number());
    // espeak-ng's default voice speaks at an adult's fundamental, inside 60-400 Hz.
    CHECK(r.data["features"]["pitch_hz"].get<double>() > 60.0);
    CHECK(r.data["features"]["pitch_hz"].get<double>() < 400.0);
}
