// The building blocks on their own: time formatting, the clip library's order, the spectrogram.
#include "clip_library.h"
#include "results_display.h"
#include "spectrogram_view.h"

#include "ui/test_audio.h"

#include "analysis/dsp_features.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <QSignalSpy>
#include <QTreeWidget>
#include <QTreeWidgetItemIterator>

using namespace grym;
using namespace grym::ui;

TEST_CASE("Times read as minutes, seconds and tenths", "[widgets]") {
    CHECK(formatSeconds(0.0) == QStringLiteral("0:00.0"));
    CHECK(formatSeconds(5.25) == QStringLiteral("0:05.3"));
    CHECK(formatSeconds(65.3) == QStringLiteral("1:05.3"));
    CHECK(formatSeconds(-3.0) == QStringLiteral("0:00.0"));
    CHECK(formatBytes(1536.0) == QStringLiteral("1.5 KiB"));
    CHECK(metricLabel(QStringLiteral("queue_wait_seconds")) == QStringLiteral("Queue wait"));
    CHECK(metricValue(QStringLiteral("run_seconds"), 0.25) == QStringLiteral("250 ms"));
}

TEST_CASE("The analysis panel shows each feature with its unit and where it was measured", "[widgets][analysis]") {
    Clip clip;
    clip.name = QStringLiteral("tone");
    clip.audio = std::make_shared<const AudioBuffer>(test::tone(2.0, 48000, 2, 1000.0));
    const dsp::DspFeatures features = dsp::computeDspFeatures(*clip.audio);
    clip.analysis = {{"features", dsp::toJson(features)}};
    ResultsDisplay display;
    display.showClip(&clip);
    // The values the core measured, with the units it gave them.
    CHECK(display.metricText(QStringLiteral("loudness_lufs")) == metricValue({}, features.loudness.integratedLufs) + QStringLiteral(" LUFS"));
    CHECK(display.metricText(QStringLiteral("true_peak_dbtp")).endsWith(QStringLiteral(" dBTP")));
    CHECK(display.metricText(QStringLiteral("spectral_centroid_hz")).endsWith(QStringLiteral(" Hz")));
    CHECK(display.metricText(QStringLiteral("sample_rate_hz")) == QStringLiteral("48000 Hz"));
    CHECK(display.metricText(QStringLiteral("channels")) == QStringLiteral("2"));
    CHECK(display.metricText(QStringLiteral("spectral_flatness")).toDouble() == Approx(features.spectralFlatness).epsilon(1e-4));
    // Per channel, and no "units" row of its own.
    CHECK(display.metricText(QStringLiteral("channel_2")).isEmpty());
    CHECK(display.metricText(QStringLiteral("rms_dbfs")).endsWith(QStringLiteral(" dBFS")));
    for (QTreeWidgetItemIterator it(display.details()); *it; ++it) CHECK((*it)->data(0, Qt::UserRole).toString() != QStringLiteral("units"));
}

TEST_CASE("The library keeps the newest clip on top and finds clips by id", "[widgets]") {
    ClipLibrary library;
    Clip a;
    a.name = QStringLiteral("a");
    a.audio = std::make_shared<const AudioBuffer>(test::tone(1.0));
    const quint64 idA = library.add(a);
    Clip b = a;
    b.name = QStringLiteral("b");
    b.source = ClipSource::Generated;
    const quint64 idB = library.add(b);
    CHECK(library.rowOf(idB) == 0);
    CHECK(library.rowOf(idA) == 1);
    CHECK(library.data(library.index(0, ClipLibrary::Source), Qt::DisplayRole).toString() == QStringLiteral("generated"));
    library.setAnalysis(idA, {{"rms", 0.1}});
    CHECK(library.find(idA)->analysis["rms"] == 0.1);
    CHECK(library.remove(idB));
    CHECK(library.count() == 1);
    CHECK(library.find(idB) == nullptr);
}

TEST_CASE("The spectrogram's loudest bin sits at the tone's frequency", "[widgets][spectrogram]") {
    const AudioBuffer audio = test::tone(1.0, 16000, 2, 1000.0);
    const Spectrogram spec = computeSpectrogram(audio, 512, 64);
    REQUIRE(spec.columns > 0);
    REQUIRE(spec.columns <= 64);
    CHECK(spec.bins == 256);
    const int column = spec.columns / 2;
    int loudest = 0;
    for (int bin = 1; bin < spec.bins; ++bin)
        if (spec.at(column, bin) > spec.at(column, loudest)) loudest = bin;
    const double binHz = 16000.0 / 512;
    // The loudest bin of a windowed tone is the one nearest it: within half a bin.
    CHECK(loudest * binHz == Approx(1000.0).margin(binHz / 2));

    SpectrogramView view;
    QSignalSpy ready(&view, &SpectrogramView::imageReady);
    view.setAudio(std::make_shared<const AudioBuffer>(audio));
    REQUIRE(ready.wait(5000));
    CHECK(view.image().width() == computeSpectrogram(audio).columns);
    view.setAudio(nullptr);
    CHECK(view.image().isNull());
}
