// Longer than the window, continuing a clip, inpainting a range and seamless loops, on the
// tiny golden pipeline (window: 16 latent frames = 0.64 s).
#include "analysis/dsp_seams.h"
#include "audio/audio_file.h"
#include "core/cli/cli_runner.h"
#include "common/error.h"
#include "models/audioldm/audioldm_service.h"
#include "models/audioldm/pipeline.h"

#include <catch2/catch.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <unistd.h>
#include <cmath>
#include <random>

using namespace grym;
using namespace grym::audioldm;

namespace {

const AudioLdmPipeline& windowedPipeline() {
    static const AudioLdmPipeline pipeline =
        AudioLdmPipeline::load(std::string(GRYM_TEST_DATA_DIR) + "/golden/audioldm_pipeline_ddim");
    return pipeline;
}

GenerationRequest quickRequest(double seconds, uint64_t seed = 11) {
    GenerationRequest r;
    r.prompt = "rain on a tin roof";
    r.steps = 3;
    r.durationSeconds = seconds;
    r.seed = seed;
    return r;
}

// A clip with structure the VAE can keep: a gliding tone over soft noise, 16 kHz mono.
AudioBuffer glideClip(double seconds) {
    AudioBuffer clip;
    clip.sampleRate = 16000;
    clip.channels = 1;
    std::mt19937 random(7);
    std::normal_distribution<float> hiss(0.0f, 0.02f);
    double phase = 0.0;
    const auto n = static_cast<size_t>(seconds * clip.sampleRate);
    for (size_t i = 0; i < n; ++i) {
        phase += 2 * M_PI * (300.0 + 400.0 * static_cast<double>(i) / static_cast<double>(n)) / clip.sampleRate;
        clip.samples.push_back(0.4f * static_cast<float>(std::sin(phase)) + hiss(random));
    }
    return clip;
}

size_t sampleAt(double seconds, int rate) { return static_cast<size_t>(std::llround(seconds * rate)); }

// The spectral flux ratio at every frame boundary of a clip except near `avoid`: how the clip
// ordinarily changes from one moment to the next, in the unit the joints are measured in.
std::vector<double> ordinaryFluxRatios(const std::vector<float>& mono, const std::vector<size_t>& avoid) {
    std::vector<double> ratios;
    for (size_t at = 1024; at + 1024 <= mono.size(); at += 256) {
        bool near = false;
        for (auto a : avoid) near = near || (at + 1024 > a && at < a + 1024);
        if (!near) ratios.push_back(dsp::measureSeam(mono, at).spectralFluxRatio);
    }
    std::sort(ratios.begin(), ratios.end());
    return ratios;
}

double percentile(const std::vector<double>& sorted, double p) {
    return sorted[static_cast<size_t>(p * static_cast<double>(sorted.size() - 1))];
}

// Samples [from, to) of `out` differ from the clip's; all others are the clip's own.
void checkOnlyRangeChanged(const AudioBuffer& clip, const AudioBuffer& out, size_t from, size_t to) {
    CHECK(std::equal(clip.samples.begin(), clip.samples.begin() + static_cast<std::ptrdiff_t>(from), out.samples.begin()));
    CHECK(std::equal(clip.samples.begin() + static_cast<std::ptrdiff_t>(to), clip.samples.end(),
                     out.samples.begin() + static_cast<std::ptrdiff_t>(to)));
    double changed = 0.0;
    for (size_t i = from; i < to; ++i) changed = std::max(changed, double(std::abs(out.samples[i] - clip.samples[i])));
    CHECK(changed > 1e-3);
}

// RMS difference of two (frames, bins) mels over the frames outside [from, to).
double rmsOutside(const torch::Tensor& a, const torch::Tensor& b, int64_t from, int64_t to) {
    auto outside = torch::ones({a.size(0)}, torch::kBool);
    outside.slice(0, from, to).fill_(false);
    return (a.index({outside}) - b.index({outside})).pow(2).mean().sqrt().item<double>();
}

// The inpainted mel (1, 1, frames, bins) is as close to the clip's `mel` (frames, bins) outside
// audio samples [from, to) as the VAE's plain encode -> decode of `mel` is.
void checkMelOutsideWithinVaeError(const AudioLdmPipeline& p, const torch::Tensor& mel, const torch::Tensor& inpainted,
                                   size_t from, size_t to) {
    const int64_t frames = mel.size(0);
    const auto reconstruction = p.decodeLatents(p.encodeMel(mel.view({1, 1, frames, -1}))).to(torch::kCPU).squeeze();
    const auto melFrom = static_cast<int64_t>(from / 160), melTo = static_cast<int64_t>(to / 160);
    const double vaeError = rmsOutside(reconstruction, mel, melFrom, melTo);
    const double inpaintError = rmsOutside(inpainted.squeeze(), mel, melFrom, melTo);
    INFO("outside the range: inpainted " << inpaintError << ", VAE reconstruction " << vaeError);
    CHECK(inpaintError <= 1.25 * vaeError);
}

// RMS distance of a window's latents (1, C, frames, W) from `clean` (C, frames, W) over the
// latent frames the boolean mask `where` picks. (A mask, not a TensorIndex: copying a TensorIndex
// made from a Slice reads an unset bool inside libtorch 1.13's header, which UBSan stops.)
double latentDistance(const torch::Tensor& latents, const torch::Tensor& clean, const torch::Tensor& where) {
    const auto d = latents.squeeze(0) - clean;
    return d.index({torch::indexing::Slice(), where}).pow(2).mean().sqrt().item<double>();
}

}  // namespace

TEST_CASE("a clip longer than the model's window is made of windows the size of the model's", "[pipeline][long]") {
    const auto& p = windowedPipeline();
    REQUIRE(p.windowLatentFrames() == 16);  // the tiny checkpoint's unet sample_size
    GenerationOptions keep;
    keep.keepStepLatents = true;
    const auto shortRun = p.generate(quickRequest(1.5), {}, nullptr, keep);
    const auto longRun = p.generate(quickRequest(2.5), {}, nullptr, keep);
    CHECK(shortRun.windows > 1);
    CHECK(longRun.windows > shortRun.windows);
    CHECK(static_cast<size_t>(longRun.audio.front().frames()) == sampleAt(2.5, 16000));
    // Memory is bounded by the window: every denoising step works on one window's latents,
    // however long the clip.
    REQUIRE(longRun.stepLatents.size() == static_cast<size_t>(longRun.windows * 3));
    for (const auto& step : longRun.stepLatents) CHECK(step.size(2) <= p.windowLatentFrames());
    CHECK(longRun.stepLatents.front().sizes() == shortRun.stepLatents.front().sizes());
    // The same seed makes the same long clip.
    const auto again = p.generate(quickRequest(1.5));
    CHECK(torch::equal(again.waveform, shortRun.waveform));
}

TEST_CASE("window joins change the sound no more than the clip changes from moment to moment", "[pipeline][long]") {
    const auto& p = windowedPipeline();
    const auto result = p.generate(quickRequest(3.0));
    const auto& mono = result.audio.front().samples;
    REQUIRE(result.joinSeconds.size() == static_cast<size_t>(result.windows - 1));
    std::vector<size_t> joins;
    for (double s : result.joinSeconds) joins.push_back(sampleAt(s, 16000));
    const auto ordinary = ordinaryFluxRatios(mono, joins);
    const double usualMax = percentile(ordinary, 0.95);
    for (auto at : joins) {
        const auto seam = dsp::measureSeam(mono, at);
        INFO("join at sample " << at << ": flux " << seam.spectralFluxRatio << " (95th percentile elsewhere "
                               << usualMax << "), sample jump " << seam.sampleJumpRatio);
        CHECK(seam.spectralFluxRatio <= usualMax);
        CHECK(seam.sampleJumpRatio < 8.0);
    }
}

TEST_CASE("continuing a clip keeps it and appends the asked seconds that carry on from its end", "[pipeline][continue]") {
    const auto& p = windowedPipeline();
    const auto clip = glideClip(1.0);
    auto request = quickRequest(1.2);
    request.sourceAudio = clip;
    request.continueSource = true;
    const auto result = p.generate(request);
    const auto& out = result.audio.front();
    const int64_t spl = 640;  // samples per latent frame: VAE scale 4 × hop 160
    const auto kept = static_cast<size_t>((clip.frames() / spl) * spl);
    CHECK(static_cast<size_t>(out.frames()) == kept + sampleAt(1.2, 16000));
    REQUIRE(!result.joinSeconds.empty());
    // Up to where the crossfade into the continuation starts, the clip is exactly itself.
    const size_t fadeStart = kept - static_cast<size_t>(p.windowOverlapLatentFrames() * spl);
    CHECK(std::equal(clip.samples.begin(), clip.samples.begin() + static_cast<std::ptrdiff_t>(fadeStart),
                     out.samples.begin()));
    const auto seam = dsp::measureSeam(out.samples, sampleAt(result.joinSeconds.front(), 16000));
    CHECK(seam.sampleJumpRatio < 8.0);
}

TEST_CASE("inpainting regenerates the range and keeps the rest within the VAE's own error", "[pipeline][inpaint]") {
    const auto& p = windowedPipeline();
    const auto clip = glideClip(0.64);  // one window
    auto request = quickRequest(0.0);
    request.sourceAudio = clip;
    request.inpaintRange = TimeRange{0.2, 0.4};
    const auto result = p.generate(request);
    const auto& out = result.audio.front();
    REQUIRE(out.frames() == clip.frames());

    // The audio outside the range (and its fades) is the clip's own, sample for sample.
    const size_t from = 0.2 * 16000 / 640 * 640, to = 640 * static_cast<size_t>(std::ceil(0.4 * 16000 / 640.0));
    checkOnlyRangeChanged(clip, out, from, to);

    // In the model's own terms: the decoded mel outside the range is as close to the clip's
    // mel as the VAE's plain reconstruction is (the method adds no error of its own there).
    auto mel = p.clipMel(clip);
    const int64_t frames = result.mel.size(2);
    if (mel.size(0) < frames) mel = torch::cat({mel, torch::full({frames - mel.size(0), mel.size(1)}, std::log(1e-5))}, 0);
    mel = mel.slice(0, 0, frames).contiguous();
    checkMelOutsideWithinVaeError(p, mel, result.mel, from, to);

    // The tiny random VAE decodes almost any latents to a similar mel, so the hold itself is
    // checked where it acts: the denoiser's last latents (before the clip's are put back)
    // outside the range stay at the clip's latents, while a free run's land far from them.
    GenerationOptions keepSteps;
    keepSteps.keepStepLatents = true;
    const auto traced = p.generate(request, {}, nullptr, keepSteps);
    const auto freeRun = p.generate(quickRequest(0.64), {}, nullptr, keepSteps);
    const auto clean = p.encodeMel(mel.view({1, 1, frames, -1})).to(torch::kCPU).squeeze(0);
    auto latentOutside = torch::ones({clean.size(1)}, torch::kBool);
    latentOutside.slice(0, static_cast<int64_t>(from / 640), static_cast<int64_t>(to / 640)).fill_(false);
    const double held = latentDistance(traced.stepLatents.back(), clean, latentOutside);
    const double unheld = latentDistance(freeRun.stepLatents.back(), clean, latentOutside);
    INFO("last latents outside the range vs the clip's: inpainting " << held << ", free generation " << unheld);
    CHECK(held < 0.1 * unheld);

    // The range's edges have no click.
    for (double edge : result.joinSeconds) {
        const auto seam = dsp::measureSeam(out.samples, sampleAt(edge, 16000), {256});
        INFO("edge at " << edge << " s: sample jump " << seam.sampleJumpRatio);
        CHECK(seam.sampleJumpRatio < 8.0);
    }
}

TEST_CASE("a loop's end flows into its start; a plain clip's does not", "[pipeline][loop]") {
    const auto& p = windowedPipeline();
    auto request = quickRequest(0.64, 21);
    request.loop = true;
    const auto looped = p.generate(request);
    CHECK(looped.audio.front().frames() == 16 * 640);  // a whole number of latent frames
    const auto plain = p.generate(quickRequest(0.64, 21));
    const auto loopPoint = dsp::measureLoopPoint(looped.audio.front().samples);
    const auto plainPoint = dsp::measureLoopPoint(plain.audio.front().samples);
    INFO("loop: flux " << loopPoint.spectralFluxRatio << " jump " << loopPoint.sampleJumpRatio << "; plain: flux "
                       << plainPoint.spectralFluxRatio << " jump " << plainPoint.sampleJumpRatio);
    const auto ordinary = ordinaryFluxRatios(looped.audio.front().samples, {});
    CHECK(loopPoint.spectralFluxRatio <= percentile(ordinary, 0.95));
    CHECK(loopPoint.sampleJumpRatio < 8.0);
    CHECK(loopPoint.spectralFluxRatio < plainPoint.spectralFluxRatio);

    // Resampled, the loop keeps its period.
    request.outputSampleRate = 48000;
    CHECK(p.generate(request).audio.front().frames() == 16 * 640 * 3);
}

TEST_CASE("a range longer than the window is inpainted window by window, keeping the rest of the clip", "[pipeline][inpaint]") {
    const auto& p = windowedPipeline();
    const auto clip = glideClip(2.0);  // 50 latent frames
    auto request = quickRequest(0.0);
    request.sourceAudio = clip;
    request.inpaintRange = TimeRange{0.1, 1.5};  // latent frames 2..38: more than a window of 16
    GenerationOptions keepSteps;
    keepSteps.keepStepLatents = true;
    const auto result = p.generate(request, {}, nullptr, keepSteps);
    const auto& out = result.audio.front();
    REQUIRE(out.frames() == clip.frames());

    // Several windows, each denoising at most one window's latents.
    CHECK(result.windows > 1);
    REQUIRE(result.stepLatents.size() == static_cast<size_t>(result.windows * 3));
    for (const auto& step : result.stepLatents) CHECK(step.size(2) <= p.windowLatentFrames());

    // Outside the range the audio is the clip's own, sample for sample; inside it changed.
    const size_t from = 2 * 640, to = 38 * 640;
    checkOnlyRangeChanged(clip, out, from, to);

    // The decoded mel (of the windows' span, from the clip's start here) outside the range is
    // as close to the clip's mel as the VAE's plain reconstruction of the same frames.
    const int64_t frames = result.mel.size(2);
    REQUIRE(frames > static_cast<int64_t>(to / 160));
    auto mel = p.clipMel(clip).slice(0, 0, frames).contiguous();
    REQUIRE(mel.size(0) == frames);
    checkMelOutsideWithinVaeError(p, mel, result.mel, from, to);

    // The last window ends past the range on the clip's latents: its denoiser output there
    // stays at the clip's latents, where a free run's lands far from them.
    const int64_t windowsEnd = frames / 4, lastStart = windowsEnd - p.windowLatentFrames();
    const auto clean = p.encodeMel(mel.slice(0, lastStart * 4, windowsEnd * 4).reshape({1, 1, -1, mel.size(1)}))
                           .to(torch::kCPU).squeeze(0);
    const auto freeRun = p.generate(quickRequest(0.64), {}, nullptr, keepSteps);
    auto pastRange = torch::zeros({clean.size(1)}, torch::kBool);
    pastRange.slice(0, 38 - lastStart).fill_(true);
    const double held = latentDistance(result.stepLatents.back(), clean, pastRange);
    const double unheld = latentDistance(freeRun.stepLatents.back(), clean, pastRange);
    INFO("last latents past the range vs the clip's: inpainting " << held << ", free generation " << unheld);
    CHECK(held < 0.1 * unheld);

    // No click at the range's edges nor at the joins between its windows, against the whole
    // clip's sample-to-sample change.
    REQUIRE(result.joinSeconds.size() == static_cast<size_t>(2 + result.windows - 1));
    std::vector<size_t> windowJoins;  // from the range's start
    for (double s : result.joinSeconds) {
        const size_t at = sampleAt(s, 16000);
        const auto seam = dsp::measureSeam(out.samples, at, {256});
        INFO("joint at sample " << at << ": sample jump " << seam.sampleJumpRatio);
        CHECK(seam.sampleJumpRatio < 8.0);
        if (at != from && at != to) windowJoins.push_back(at - from);
    }
    // The window joins lie inside the regenerated material: they change its sound no more than
    // it changes from moment to moment (the clip outside, a calm glide, is no measure of that).
    const std::vector<float> regenerated(out.samples.begin() + static_cast<std::ptrdiff_t>(from),
                                         out.samples.begin() + static_cast<std::ptrdiff_t>(to));
    const double usualMax = percentile(ordinaryFluxRatios(regenerated, windowJoins), 0.95);
    for (auto at : windowJoins) {
        const auto seam = dsp::measureSeam(regenerated, at);
        INFO("window join at sample " << at + from << ": flux " << seam.spectralFluxRatio
                                      << " (95th percentile elsewhere in the range " << usualMax << ")");
        CHECK(seam.spectralFluxRatio <= usualMax);
    }
}

TEST_CASE("a loop longer than the window is made of windows and its end flows into its start", "[pipeline][loop]") {
    const auto& p = windowedPipeline();
    auto request = quickRequest(1.5, 21);  // 38 latent frames
    request.loop = true;
    GenerationOptions keepSteps;
    keepSteps.keepStepLatents = true;
    const auto looped = p.generate(request, {}, nullptr, keepSteps);
    const auto& mono = looped.audio.front().samples;
    CHECK(mono.size() == 38 * 640);  // a whole number of latent frames
    CHECK(looped.windows > 1);
    REQUIRE(looped.stepLatents.size() == static_cast<size_t>(looped.windows * 3));
    for (const auto& step : looped.stepLatents) CHECK(step.size(2) <= p.windowLatentFrames());

    // The loop point is judged against the clip's ordinary moments as the single-window loop's is.
    const auto loopPoint = dsp::measureLoopPoint(mono);
    INFO("loop point: flux " << loopPoint.spectralFluxRatio << " jump " << loopPoint.sampleJumpRatio);
    std::vector<size_t> joins;
    for (double s : looped.joinSeconds) joins.push_back(sampleAt(s, 16000));
    const double usualMax = percentile(ordinaryFluxRatios(mono, joins), 0.95);
    CHECK(loopPoint.spectralFluxRatio <= usualMax);
    CHECK(loopPoint.sampleJumpRatio < 8.0);

    // The joins between its windows, the one across the loop point included, are seamless too.
    // (joins between the windows of the sequence, and both sides of the one across the loop point)
    REQUIRE(looped.joinSeconds.size() == static_cast<size_t>(looped.windows));
    for (auto at : joins) {
        const auto seam = dsp::measureSeam(mono, at);
        INFO("join at sample " << at << ": flux " << seam.spectralFluxRatio << " (95th percentile elsewhere " << usualMax
                               << "), sample jump " << seam.sampleJumpRatio);
        CHECK(seam.spectralFluxRatio <= usualMax);
        CHECK(seam.sampleJumpRatio < 8.0);
    }

    // Resampled, the loop keeps its period.
    request.outputSampleRate = 48000;
    CHECK(p.generate(request).audio.front().frames() == 38 * 640 * 3);
}

TEST_CASE("edits that cannot work are refused with the reason", "[pipeline][inpaint]") {
    const auto& p = windowedPipeline();
    auto inpaint = quickRequest(0.0);
    inpaint.sourceAudio = glideClip(0.5);
    inpaint.inpaintRange = TimeRange{0.3, 0.9};
    CHECK_THROWS_WITH(p.generate(inpaint), Catch::Contains("must lie inside the clip"));
    auto orphan = quickRequest(1.0);
    orphan.continueSource = true;
    CHECK_THROWS_AS(p.generate(orphan), ModelError);
}

TEST_CASE("the audioldm service inpaints, continues and loops from task parameters", "[pipeline][service]") {
    AudioLdmServiceOptions options;
    options.modelPath = std::string(GRYM_TEST_DATA_DIR) + "/golden/audioldm_pipeline_ddim";
    AudioLdmService service(options);
    service.load();
    CancellationToken cancel;
    TaskInput loop;
    loop.prompt = "a drum groove";
    loop.parameters = {{"steps", 2}, {"duration", 0.64}, {"seed", 3}, {"loop", true}};
    const auto looped = service.run(loop, {}, cancel);
    REQUIRE(looped.metrics.contains("loop_point"));
    CHECK(looped.metrics["loop_point"]["spectral_flux_ratio"].get<double>() >= 0.0);
    CHECK(looped.data["loop"] == true);

    TaskInput inpaint;
    inpaint.prompt = "a bird";
    inpaint.audio = glideClip(0.64);
    inpaint.parameters = {{"steps", 2}, {"seed", 3}, {"edit", "inpaint"}, {"range_start", 0.1}, {"range_end", 0.3}};
    const auto edited = service.run(inpaint, {}, cancel);
    CHECK(edited.data["edit"] == "inpaint");
    CHECK(edited.audio->frames() == inpaint.audio->frames());

    TaskInput more = inpaint;
    more.parameters = {{"steps", 2}, {"seed", 3}, {"edit", "continue"}, {"duration", 0.5}};
    const auto continued = service.run(more, {}, cancel);
    CHECK(continued.audio->duration() > 1.0);
    more.parameters["edit"] = "stretch";
    CHECK_THROWS_WITH(service.run(more, {}, cancel), Catch::Contains("edit"));
}

TEST_CASE("generate CLI inpaints a range, continues a clip and makes a loop", "[pipeline][cli]") {
    const auto model = std::string(GRYM_TEST_DATA_DIR) + "/golden/audioldm_pipeline_ddim";
    const auto dir = std::filesystem::temp_directory_path() / ("grym_cli_edit_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto source = (dir / "source.wav").string();
    saveAudioFile(source, glideClip(1.0));
    const std::string common = " --model '" + model + "' --steps 2 --seed 4 --quiet";

    auto run = test::runCli(dir, "generate 'a door' -o '" + (dir / "fixed.wav").string() + "' --inpaint '" + source +
                                     "' --range 0.25:0.5" + common);
    INFO(run.err);
    REQUIRE(run.exitCode == 0);
    const auto fixed = loadAudioFile((dir / "fixed.wav").string());
    CHECK(fixed.frames() == 16000);

    // A range longer than the window (0.64 s) is taken too.
    run = test::runCli(dir, "generate 'a door' -o '" + (dir / "long-range.wav").string() + "' --inpaint '" + source +
                                "' --range 0.1:0.9" + common);
    INFO(run.err);
    REQUIRE(run.exitCode == 0);
    CHECK(loadAudioFile((dir / "long-range.wav").string()).frames() == 16000);

    run = test::runCli(dir, "generate 'more' -o '" + (dir / "longer.wav").string() + "' --continue '" + source +
                                "' --duration 0.5" + common);
    REQUIRE(run.exitCode == 0);
    CHECK(loadAudioFile((dir / "longer.wav").string()).frames() == 16000 + 8000);

    run = test::runCli(dir, "generate 'a groove' -o '" + (dir / "loop.wav").string() + "' --loop --duration 0.64" + common);
    REQUIRE(run.exitCode == 0);
    CHECK_THAT(run.out, Catch::Contains("loop point:"));
    run = test::runCli(dir, "generate 'a groove' -o '" + (dir / "long-loop.wav").string() + "' --loop --duration 1.0" + common);
    REQUIRE(run.exitCode == 0);
    CHECK(loadAudioFile((dir / "long-loop.wav").string()).frames() == 25 * 640);  // whole latent frames

    // Usage errors say what is wrong.
    run = test::runCli(dir, "generate x -o '" + (dir / "x.wav").string() + "' --range 0:1" + common);
    CHECK(run.exitCode == 2);
    CHECK_THAT(run.err, Catch::Contains("--inpaint"));
    run = test::runCli(dir, "generate x -o '" + (dir / "x.wav").string() + "' --inpaint '" + source + "' --range 2:1" + common);
    CHECK(run.exitCode == 2);
    CHECK_THAT(run.err, Catch::Contains("START:END"));
    run = test::runCli(dir, "generate x -o '" + (dir / "x.wav").string() + "' --inpaint '" + source + "' --range 0.5:4" + common);
    CHECK(run.exitCode != 0);
    CHECK_THAT(run.err, Catch::Contains("not inside the clip"));
    std::filesystem::remove_all(dir);
}
