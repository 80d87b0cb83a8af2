// Drives the real main window: drops, playback, the generation form, generation, analysis,
// cancellation, status, metrics, library and graphs, with test-double model services.
#include "audio_controls.h"
#include "audio_player.h"
#include "core_adapter.h"
#include "generation_form.h"
#include "local_api_dialog.h"
#include "main_window.h"
#include "model_manager_dialog.h"
#include "models_folder.h"
#include "resource_graphs.h"
#include "results_display.h"
#include "waveform_view.h"

#include "api/installed_services.h"
#include "support/fake_services.h"
#include "ui/ui_test_support.h"
#include "core/measurement_bounds.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <httplib.h>

#include <QBarSet>
#include <QChartView>
#include <QValueAxis>
#include <QCheckBox>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSlider>
#include <QSpinBox>
#include <QToolButton>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTreeWidget>

using namespace grym;
using namespace grym::ui;
using grym::test::waitFor;

namespace {

struct WindowFixture {
    QTemporaryDir dir;
    std::shared_ptr<test::FakeGenerationService> generator = std::make_shared<test::FakeGenerationService>();
    std::shared_ptr<test::FakeAnalysisService> analyser = std::make_shared<test::FakeAnalysisService>();
    std::shared_ptr<AudioApi> api = std::make_shared<AudioApi>();
    CoreAdapter adapter{api};
    std::unique_ptr<MainWindow> window;

    explicit WindowFixture(bool withServices = true) {
        QSettings().clear();
        if (withServices) {
            api->addService(generator);
            api->addService(analyser);
        }
        window = std::make_unique<MainWindow>(&adapter);
        window->show();
        window->activateWindow();
        REQUIRE(QTest::qWaitForWindowActive(window.get()));
    }
    ~WindowFixture() {
        window.reset();
        for (QWidget* w : QApplication::topLevelWidgets())
            if (qobject_cast<QMessageBox*>(w)) w->deleteLater();
    }

    QString path(const QString& name) const { return dir.filePath(name); }

    quint64 loadTone(const QString& name, double seconds) {
        test::writeTone(path(name), seconds);
        const int before = window->library()->count();
        window->openPaths({path(name)});
        REQUIRE(waitFor([&] { return window->library()->count() == before + 1; }));
        return window->currentClipId();
    }

    void fillValidForm(const QString& prompt = QStringLiteral("rain on a tin roof")) {
        GenerationForm* form = window->generationForm();
        form->promptEdit()->setPlainText(prompt);
        form->durationEdit()->setText(QStringLiteral("1.5"));
        form->stepsEdit()->setText(QStringLiteral("8"));
        form->guidanceEdit()->setText(QStringLiteral("3"));
        form->seedEdit()->setText(QStringLiteral("42"));
        form->seedLockBox()->setChecked(true);
        REQUIRE(form->isValid());
    }
};

}  // namespace

// Durations here are whole samples at 16 kHz (the test tone's and the fake generator's rate),
// cut from seconds * rate by truncation: within one sample of the seconds asked for.
constexpr double kOneSampleSeconds = 1.0 / 16000;

TEST_CASE("Dropped files load newest first and a bad file is refused by name with its reason", "[window][drop]") {
    WindowFixture f;
    test::writeTone(f.path("first.wav"), 0.5);
    test::writeTone(f.path("second.flac"), 1.0);
    QFile bad(f.path("broken.wav"));
    REQUIRE(bad.open(QIODevice::WriteOnly));
    bad.write("RIFF this is not really a wave file");
    bad.close();
    const QString missing = f.path("missing.ogg");

    test::dropFiles(f.window->libraryView()->viewport(), {f.path("first.wav"), f.path("broken.wav")});
    REQUIRE(waitFor([&] { return f.window->library()->count() == 1 && f.window->refusals().size() == 1; }));
    test::dropFiles(f.window->results(), {f.path("second.flac"), missing});
    REQUIRE(waitFor([&] { return f.window->library()->count() == 2 && f.window->refusals().size() == 2; }));

    ClipLibrary* library = f.window->library();
    CHECK(library->at(0).name == QStringLiteral("second.flac"));
    CHECK(library->at(1).name == QStringLiteral("first.wav"));
    CHECK(library->data(library->index(0, ClipLibrary::Duration), Qt::DisplayRole).toString() == QStringLiteral("0:01.0"));
    CHECK(library->data(library->index(0, ClipLibrary::Rate), Qt::DisplayRole).toString() == QStringLiteral("16 kHz"));
    CHECK(library->data(library->index(0, ClipLibrary::Source), Qt::DisplayRole).toString() == QStringLiteral("file"));

    const QStringList refusals = f.window->refusals();
    CHECK(refusals.filter(QStringLiteral("broken.wav")).size() == 1);
    CHECK(refusals.filter(QStringLiteral("missing.ogg")).size() == 1);
    for (const QString& line : refusals) CHECK(line.section(QStringLiteral(": "), 1).trimmed().size() > 5);  // a reason follows
    REQUIRE(waitFor([&] { return f.window->findChild<QMessageBox*>(QStringLiteral("refusalMessage")) != nullptr; }));
    CHECK(f.window->recentFiles().size() == 2);
}

TEST_CASE("A dropped folder loads every audio file inside it, sub-folders included", "[window][drop]") {
    WindowFixture f;
    QDir(f.dir.path()).mkpath(QStringLiteral("pack/sub"));
    test::writeTone(f.path("pack/a.wav"), 0.2);
    test::writeTone(f.path("pack/sub/b.wav"), 0.3);
    QFile notes(f.path("pack/readme.txt"));
    REQUIRE(notes.open(QIODevice::WriteOnly));
    notes.write("not audio");
    notes.close();
    test::dropFiles(f.window->generationForm(), {f.path("pack")});
    REQUIRE(waitFor([&] { return f.window->library()->count() == 2; }));
    CHECK(f.window->refusals().isEmpty());
}

TEST_CASE("Space plays and pauses, clicks on the waveform and the slider seek, Home and End jump", "[window][playback]") {
    WindowFixture f;
    f.loadTone("tone.wav", 12.0);
    AudioPlayer* player = f.window->player();
    REQUIRE(player->duration() == Approx(12.0).margin(kOneSampleSeconds));
    f.window->activateWindow();
    f.window->libraryView()->setFocus();

    QTest::keyClick(f.window.get(), Qt::Key_Space);
    CHECK(player->state() == AudioPlayer::State::Playing);
    REQUIRE(waitFor([&] { return player->position() > 0.15; }));
    QTest::keyClick(f.window.get(), Qt::Key_Space);
    CHECK(player->state() == AudioPlayer::State::Paused);
    const double pausedAt = player->position();
    QTest::qWait(150);
    // Paused on the silent clock the position does not move; with an audio device it is read
    // as the source's frame less what the device still buffers, which a sink may settle by a
    // period (10-50 ms) after pausing.
    CHECK(player->position() == Approx(pausedAt).margin(0.05));

    WaveformView* waveform = f.window->results()->waveform();
    QTest::mouseClick(waveform, Qt::LeftButton, Qt::NoModifier, QPoint(waveform->width() / 2, waveform->height() / 2));
    // The click's pixel maps to 6 s within a pixel (12 s over a few hundred); with an audio
    // device the position is read back less the device's buffer, up to half a second.
    CHECK(player->position() == Approx(6.0).margin(0.5));
    // The playhead is drawn from the last position signal: within one 30 ms ticker step and
    // the device's period of the position read now.
    CHECK(waveform->playhead() == Approx(player->position()).margin(0.05));

    QTest::keyClick(f.window.get(), Qt::Key_Right);
    CHECK(player->position() == Approx(6.0 + AudioControls::kSeekStepSeconds).margin(0.5));  // as for the click
    QTest::keyClick(f.window.get(), Qt::Key_Home);
    CHECK(player->position() == Approx(0.0).margin(0.01));
    QTest::keyClick(f.window.get(), Qt::Key_End);
    CHECK(player->position() == Approx(12.0).margin(0.01));
    QTest::keyClick(f.window.get(), Qt::Key_Left);
    CHECK(player->position() == Approx(7.0).margin(0.01));

    QSlider* slider = f.window->audioControls()->positionSlider();
    QTest::mouseClick(slider, Qt::LeftButton, Qt::NoModifier, QPoint(slider->width() / 4, slider->height() / 2));
    // A click on the groove a quarter along: the slider's handle is tens of pixels wide and the
    // style decides whether the handle's centre or edge goes to the click, so within about a
    // handle's width of 12 s over the groove (0.8 s).
    CHECK(player->position() == Approx(3.0).margin(0.8));
    slider->triggerAction(QAbstractSlider::SliderToMinimum);
    CHECK(player->position() == Approx(0.0).margin(0.01));
    CHECK(f.window->audioControls()->timeLabel()->text().startsWith(QStringLiteral("0:00.0")));

    f.window->audioControls()->stopButton()->click();
    CHECK(player->state() == AudioPlayer::State::Stopped);
    f.window->audioControls()->volumeSlider()->setValue(25);
    CHECK(player->volume() == Approx(0.25));
}

TEST_CASE("Playback stops at the end unless looping", "[window][playback]") {
    WindowFixture f;
    f.loadTone("short.wav", 0.3);
    AudioPlayer* player = f.window->player();
    f.window->audioControls()->loopBox()->setChecked(true);
    player->play();
    QTest::qWait(700);
    CHECK(player->state() == AudioPlayer::State::Playing);
    f.window->audioControls()->loopBox()->setChecked(false);
    REQUIRE(waitFor([&] { return player->state() == AudioPlayer::State::Stopped; }, 3000));
}

TEST_CASE("The form explains bad values beside each field and enables Generate only when all are valid", "[window][form]") {
    WindowFixture f;
    GenerationForm* form = f.window->generationForm();
    form->promptEdit()->setPlainText(QStringLiteral("   "));
    CHECK_FALSE(form->generateButton()->isEnabled());
    CHECK(form->fieldError(GenerationForm::Field::Prompt).contains(QStringLiteral("Describe")));

    f.fillValidForm();
    CHECK(form->generateButton()->isEnabled());

    QTest::keyClicks(form->stepsEdit(), QStringLiteral("x"));
    CHECK_FALSE(form->generateButton()->isEnabled());
    CHECK(form->fieldError(GenerationForm::Field::Steps) == QStringLiteral("must be a whole number"));
    const QList<QLabel*> stepsError = form->findChildren<QLabel*>(QStringLiteral("fieldError"));
    CHECK(std::any_of(stepsError.begin(), stepsError.end(), [](QLabel* l) { return l->isVisible() && l->text() == QStringLiteral("must be a whole number"); }));

    form->stepsEdit()->setText(QStringLiteral("20"));
    // The form's bounds are the AudioApi's (one ApiLimits for the form, the CLI and the HTTP API).
    const ApiLimits& limits = f.adapter.api().limits();
    form->durationEdit()->setText(QStringLiteral("0.05"));
    CHECK(form->fieldError(GenerationForm::Field::Duration)
              .contains(QStringLiteral("between %1 and %2").arg(limits.minGenerateSeconds).arg(limits.maxGenerateSeconds)));
    form->durationEdit()->setText(QStringLiteral("4"));
    form->guidanceEdit()->setText(QStringLiteral("-1"));
    CHECK_FALSE(form->generateButton()->isEnabled());
    form->guidanceEdit()->setText(QStringLiteral("3.5"));
    form->seedEdit()->setText(QStringLiteral("seed"));
    CHECK_FALSE(form->isValid());
    form->seedEdit()->setText(QStringLiteral("7"));
    CHECK(form->isValid());
    CHECK(form->generateButton()->isEnabled());

    form->resetButton()->click();
    CHECK(form->stepsEdit()->text() == QStringLiteral("50"));
}

TEST_CASE("A generation shows progress, then the new clip with its metrics, and the graphs record it", "[window][generate]") {
    WindowFixture f;
    f.generator->stepTime = std::chrono::milliseconds(25);
    f.fillValidForm();
    QSignalSpy progress(&f.adapter, &CoreAdapter::taskProgressed);
    f.window->generationForm()->generateButton()->click();
    CHECK(f.window->results()->status() == ResultsDisplay::Status::Generating);
    CHECK(f.window->generationForm()->cancelButton()->isEnabled());
    CHECK_FALSE(f.window->generationForm()->generateButton()->isEnabled());
    REQUIRE(waitFor([&] { return f.window->results()->progressBar()->value() > 0; }));
    CHECK(f.window->results()->progressBar()->isVisible());

    REQUIRE(waitFor([&] { return f.window->results()->status() == ResultsDisplay::Status::Success; }));
    CHECK(progress.size() >= 8);
    REQUIRE(f.window->library()->count() == 1);
    const Clip& clip = f.window->library()->at(0);
    CHECK(clip.source == ClipSource::Generated);
    CHECK(clip.duration() == Approx(1.5).margin(kOneSampleSeconds));
    CHECK(clip.name.contains(QStringLiteral("rain on a tin roof")));
    CHECK(f.window->currentClipId() == clip.id);
    CHECK(f.generator->lastPrompt == "rain on a tin roof");
    ResultsDisplay* results = f.window->results();
    CHECK(results->metricText(QStringLiteral("seed")) == QStringLiteral("42"));
    CHECK(results->metricText(QStringLiteral("model_parameters")) == QStringLiteral("123.5 M"));
    CHECK(results->metricText(QStringLiteral("peak_memory_bytes")) == QStringLiteral("512.0 MiB"));
    CHECK_FALSE(results->metricText(QStringLiteral("run_seconds")).isEmpty());
    CHECK(results->statusLabel()->text().contains(QStringLiteral("Generated in")));
    CHECK(f.window->player()->duration() == Approx(1.5).margin(kOneSampleSeconds));
    CHECK(f.window->resourceGraphs()->runSet()->count() == 1);
    CHECK(f.window->resourceGraphs()->runSet()->at(0) > 0.1);  // the fake's steps take at least that long
    CHECK(f.window->generationForm()->generateButton()->isEnabled());
}

TEST_CASE("Several variations run one after another, each with the next seed", "[window][generate]") {
    WindowFixture f;
    f.fillValidForm(QStringLiteral("bell"));
    f.window->generationForm()->variationsBox()->setValue(3);
    f.window->generationForm()->generateButton()->click();
    CHECK(f.window->activeGenerations() == 3);
    REQUIRE(waitFor([&] { return f.window->library()->count() == 3 && f.window->activeGenerations() == 0; }));
    QStringList names;
    for (int i = 0; i < 3; ++i) names << f.window->library()->at(i).name;
    CHECK(names.filter(QStringLiteral("seed 42")).size() == 1);
    CHECK(names.filter(QStringLiteral("seed 43")).size() == 1);
    CHECK(names.filter(QStringLiteral("seed 44")).size() == 1);
}

TEST_CASE("Cancelling a running generation reports it cancelled and adds no clip", "[window][generate][cancel]") {
    WindowFixture f;
    f.generator->waitForCancel = true;
    f.fillValidForm();
    f.window->generationForm()->generateButton()->click();
    REQUIRE(waitFor([&] { return f.window->results()->progressBar()->value() > 0; }));
    f.window->generationForm()->cancelButton()->click();
    REQUIRE(waitFor([&] { return f.window->results()->status() == ResultsDisplay::Status::Cancelled; }));
    CHECK(f.window->library()->count() == 0);
    CHECK(f.window->activeGenerations() == 0);
    CHECK_FALSE(f.window->generationForm()->cancelButton()->isEnabled());
}

TEST_CASE("A failing model shows the error and what happened", "[window][generate][error]") {
    WindowFixture f;
    f.generator->failWith = "the UNet ran out of memory at step 4; try fewer steps or a shorter duration";
    f.fillValidForm();
    f.window->generationForm()->generateButton()->click();
    REQUIRE(waitFor([&] { return f.window->results()->status() == ResultsDisplay::Status::Error; }));
    CHECK(f.window->results()->statusLabel()->text().contains(QStringLiteral("ran out of memory")));
    CHECK(f.window->library()->count() == 0);
}

TEST_CASE("Without a generation model the error points to the Model Manager", "[window][generate][error]") {
    WindowFixture f(false);
    f.fillValidForm();
    f.window->generationForm()->generateButton()->click();
    REQUIRE(waitFor([&] { return f.window->results()->status() == ResultsDisplay::Status::Error; }));
    CHECK(f.window->results()->statusLabel()->text().contains(QStringLiteral("Model Manager")));
    // ... and says where the model folder belongs.
    CHECK(f.window->results()->statusLabel()->text().contains(QDir::toNativeSeparators(QDir(modelsFolder()).filePath(QStringLiteral("audioldm")))));
}

TEST_CASE("Analyse shows the clip's analysis in the results", "[window][analyse]") {
    WindowFixture f;
    const quint64 id = f.loadTone("voice.wav", 1.0);
    f.window->results()->analyseButton()->click();
    REQUIRE(waitFor([&] { return f.window->results()->status() == ResultsDisplay::Status::Success; }));
    REQUIRE(f.window->library()->find(id)->analysis.is_object());
    // 440 whole periods of a 0.4 sine: RMS 0.4 / sqrt(2), saved as 16-bit PCM (each sample within
    // a step) and shown to 5 significant digits (within half a unit of the fifth).
    CHECK(f.window->results()->metricText(QStringLiteral("rms")).toDouble() ==
          Approx(0.4 / std::sqrt(2.0)).margin(test::pcmStep(16) + 0.5e-5));
    CHECK(f.window->results()->metricText(QStringLiteral("patterns")) == QStringLiteral("tonal"));
    CHECK(f.analyser->runs == 1);
}

TEST_CASE("Variation hands the selected clip to the generation form and marks the result", "[window][variation]") {
    WindowFixture f;
    f.loadTone("seed-clip.wav", 1.0);
    f.window->results()->variationButton()->click();
    f.fillValidForm(QStringLiteral("same but brighter"));
    f.window->generationForm()->generateButton()->click();
    REQUIRE(waitFor([&] { return f.window->library()->count() == 2 && f.window->activeGenerations() == 0; }));
    CHECK(f.generator->lastHadAudio);
    CHECK(f.window->library()->at(0).source == ClipSource::Variation);
}

TEST_CASE("A Shift+drag in the waveform selects a range and Generate regenerates only that range", "[window][inpaint]") {
    WindowFixture f;
    f.loadTone("edit-me.wav", 2.0);
    WaveformView* waveform = f.window->results()->waveform();
    QSignalSpy selected(waveform, &WaveformView::selectionChanged);
    test::shiftDrag(waveform, waveform->width() / 4, waveform->width() / 2);
    REQUIRE(waveform->selection());
    CHECK(selected.size() >= 1);
    // The view's margins make the pixels a little off the exact quarter and half.
    CHECK(waveform->selection()->startSeconds == Approx(0.5).margin(0.05));
    CHECK(waveform->selection()->endSeconds == Approx(1.0).margin(0.05));
    GenerationForm* form = f.window->generationForm();
    CHECK(form->sourceUse() == GenerationForm::SourceUse::RegenerateSelection);
    REQUIRE(form->selection());
    CHECK(form->selection()->startSeconds == Approx(waveform->selection()->startSeconds));

    f.fillValidForm(QStringLiteral("a door slam"));
    // The selection belongs to the clip on show: once the new clip is shown it is gone.
    const TimeRange asked = *form->selection();
    form->generateButton()->click();
    REQUIRE(waitFor([&] { return f.window->library()->count() == 2 && f.window->activeGenerations() == 0; }));
    const auto parameters = f.generator->lastTaskParameters();
    CHECK(f.generator->lastHadAudio);
    CHECK(parameters.value("edit", "") == "inpaint");
    CHECK(parameters.value("range_start", 0.0) == Approx(asked.startSeconds));
    CHECK(parameters.value("range_end", 0.0) == Approx(asked.endSeconds));

    // Without a selection the form says what to do instead of generating.
    form->setSelection(std::nullopt);
    form->setSourceUse(GenerationForm::SourceUse::RegenerateSelection);
    CHECK_FALSE(form->isValid());
    CHECK(form->fieldError(GenerationForm::Field::Source).contains(QStringLiteral("Shift+drag")));
    form->setSourceUse(GenerationForm::SourceUse::Continue);
    CHECK(form->isValid());
}

TEST_CASE("The loop checkbox asks for a seamless loop and the result plays looped", "[window][loop]") {
    WindowFixture f;
    f.fillValidForm(QStringLiteral("a drum groove"));
    GenerationForm* form = f.window->generationForm();
    REQUIRE(f.window->findChild<QCheckBox*>(QStringLiteral("seamlessLoopBox")) == form->loopBox());
    f.window->audioControls()->loopBox()->setChecked(false);
    form->loopBox()->setChecked(true);
    form->generateButton()->click();
    REQUIRE(waitFor([&] { return f.window->library()->count() == 1 && f.window->activeGenerations() == 0; }));
    CHECK(f.generator->lastTaskParameters().value("loop", false));
    CHECK(f.window->player()->looping());
    // A loop is made from the prompt alone: with a source clip the form refuses it.
    f.loadTone("clip.wav", 1.0);
    f.window->results()->variationButton()->click();
    CHECK_FALSE(form->isValid());
}

TEST_CASE("The resource graphs plot the monitor's samples with thresholds, refreshed at least twice a second", "[window][graphs]") {
    WindowFixture f;
    QVector<ResourceSample> samples;
    for (int i = 0; i < 20; ++i) {
        ResourceSample s;
        s.timeSeconds = 100.0 + i * 0.5;
        s.ramTotal = 16ull << 30;
        s.ramUsed = (4ull << 30) + static_cast<quint64>(i) * (100ull << 20);
        s.processRss = 1ull << 30;
        samples << s;
    }
    f.adapter.setResourceSource([&samples] { return samples; }, ResourceThresholds{12ull << 30, 15ull << 30});
    ResourceGraphs* graphs = f.window->resourceGraphs();
    const int before = graphs->refreshCount();
    QTest::qWait(1100);
    CHECK(graphs->refreshCount() - before >= 2);
    CHECK(graphs->ramUsedSeries()->count() == 20);
    CHECK(graphs->vramUsedSeries()->count() == 0);
    CHECK(graphs->summaryLabel()->text().contains(QStringLiteral("of 16.0 GiB")));
    // Up to 5.9 GiB used: the axis stops well below the 12 GiB warning, which the summary names.
    CHECK(graphs->memoryAxis()->max() < 12.0);
    CHECK(graphs->warningSeries()->count() == 0);
    CHECK(graphs->summaryLabel()->text().contains(QStringLiteral("warning at 12.0 GiB")));
    samples.back().ramUsed = 10ull << 30;
    graphs->refresh();
    CHECK(graphs->ramUsedSeries()->at(19).y() == Approx(10.0));
    // Now the warning lies within the axis and is drawn.
    REQUIRE(graphs->warningSeries()->count() == 2);
    CHECK(graphs->warningSeries()->at(0).y() == Approx(12.0));
}

TEST_CASE("The memory axis follows the memory in use, not the machine's size", "[window][graphs]") {
    WindowFixture f;
    QVector<ResourceSample> samples;
    for (int i = 0; i < 10; ++i) {
        ResourceSample s;
        s.timeSeconds = i * 0.5;
        s.ramTotal = 40ull << 30;
        s.ramUsed = (512ull << 20) + static_cast<quint64>(i) * (4ull << 20);  // about 0.5 GiB
        s.processRss = 200ull << 20;
        samples << s;
    }
    const ResourceThresholds thresholds{20ull << 30, 22ull << 30};
    f.adapter.setResourceSource([&samples] { return samples; }, thresholds);
    ResourceGraphs* graphs = f.window->resourceGraphs();
    graphs->refresh();
    const double usedGiB = samples.back().ramUsed / double(1ull << 30);
    // The line fills at least half of the chart's height, and nothing is cut off.
    CHECK(graphs->memoryAxis()->max() >= usedGiB);
    CHECK(graphs->memoryAxis()->max() <= 2.0 * usedGiB);
    CHECK(graphs->warningSeries()->count() == 0);
    CHECK(graphs->errorSeries()->count() == 0);
    CHECK_FALSE(graphs->warningSeries()->isVisible());
    CHECK(graphs->summaryLabel()->text().contains(QStringLiteral("warning at 20.0 GiB")));
    CHECK(graphs->summaryLabel()->text().contains(QStringLiteral("error at 22.0 GiB")));
    CHECK_FALSE(graphs->vramUsedSeries()->isVisible());  // no GPU

    SECTION("with a GPU the VRAM line is drawn and the axis covers it") {
        for (ResourceSample& s : samples) {
            s.vramTotal = 80ull << 30;
            s.vramUsed = 3ull << 30;
        }
        graphs->refresh();
        CHECK(graphs->vramUsedSeries()->isVisible());
        CHECK(graphs->vramUsedSeries()->count() == 10);
        CHECK(graphs->memoryAxis()->max() >= 3.0);
        CHECK(graphs->memoryAxis()->max() <= 6.0);
    }
    SECTION("when usage climbs near the thresholds they come into range") {
        samples.back().ramUsed = 21ull << 30;
        graphs->refresh();
        CHECK(graphs->memoryAxis()->max() >= 22.0);
        REQUIRE(graphs->warningSeries()->count() == 2);
        CHECK(graphs->warningSeries()->at(0).y() == Approx(20.0));
        CHECK(graphs->errorSeries()->count() == 2);
        CHECK_FALSE(graphs->summaryLabel()->text().contains(QStringLiteral("alerts")));
    }
    for (double top : {0.01, 0.3, 0.6, 1.7, 7.3, 33.0}) {
        const double axis = ResourceGraphs::memoryAxisTop(top);
        CHECK(axis >= top * 1.2);
        CHECK(axis <= std::max(0.25, top * 1.2 * 2.5));
    }
}

TEST_CASE("Task timing says what will appear there until the first task has run", "[window][graphs]") {
    WindowFixture f;
    ResourceGraphs* graphs = f.window->resourceGraphs();
    CHECK(graphs->taskPlaceholder()->isVisible());
    CHECK_FALSE(graphs->taskChartView()->isVisible());
    CHECK(graphs->taskPlaceholder()->text().contains(QStringLiteral("Each generation and analysis")));
    TaskOutcome outcome;
    outcome.taskId = 7;
    outcome.type = TaskType::Generation;
    outcome.state = TaskOutcome::State::Succeeded;
    outcome.metrics = {{"run_seconds", 1.5}, {"queue_wait_seconds", 0.1}};
    graphs->addTaskTiming(outcome);
    CHECK(graphs->taskChartView()->isVisible());
    CHECK_FALSE(graphs->taskPlaceholder()->isVisible());
    CHECK(graphs->runSet()->count() == 1);
}

TEST_CASE("Saving a clip writes a WAV or FLAC file that loads back", "[window][save]") {
    WindowFixture f;
    const quint64 id = f.loadTone("keep.wav", 0.5);
    QSignalSpy saved(&f.adapter, &CoreAdapter::audioSaved);
    f.window->saveClipTo(id, f.path("out.flac"));
    REQUIRE(waitFor([&] { return saved.size() == 1; }));
    const AudioBuffer back = loadAudioFile(f.path("out.flac").toStdString());
    CHECK(back.duration() == Approx(0.5).margin(kOneSampleSeconds));
    QSignalSpy failed(&f.adapter, &CoreAdapter::audioSaveFailed);
    f.window->saveClipTo(id, f.path("no/such/folder/out.wav"));
    REQUIRE(waitFor([&] { return failed.size() == 1; }));
    CHECK(f.window->results()->status() == ResultsDisplay::Status::Error);
}

TEST_CASE("Form parameters, recent files and the layout are remembered across windows", "[window][settings]") {
    QTemporaryDir dir;
    {
        WindowFixture f;
        f.fillValidForm(QStringLiteral("ocean waves"));
        f.window->generationForm()->stepsEdit()->setText(QStringLiteral("33"));
        f.window->generationForm()->generateButton()->click();
        REQUIRE(waitFor([&] { return f.window->activeGenerations() == 0; }));
        f.loadTone("recent.wav", 0.2);
        f.window->close();
    }
    CoreAdapter adapter;
    MainWindow again(&adapter);
    CHECK(again.generationForm()->promptEdit()->toPlainText() == QStringLiteral("ocean waves"));
    CHECK(again.generationForm()->stepsEdit()->text() == QStringLiteral("33"));
    CHECK(again.generationForm()->seedEdit()->text() == QStringLiteral("42"));
    CHECK(again.generationForm()->seedLockBox()->isChecked());
    REQUIRE(again.recentFiles().size() == 1);
    CHECK(again.recentFiles().front().endsWith(QStringLiteral("recent.wav")));
}

TEST_CASE("The model manager lists the services and explains a missing model folder", "[window][models]") {
    WindowFixture f;
    setModelsFolder(f.path("models"));
    ModelManagerDialog* dialog = f.window->showModelManager();
    REQUIRE(dialog->table()->rowCount() == 2);
    CHECK(dialog->table()->item(0, 0)->text() == QStringLiteral("audioldm"));
    CHECK(dialog->table()->item(0, 1)->text() == QStringLiteral("unloaded"));
    CHECK(dialog->guidanceLabel()->text().contains(QStringLiteral("does not exist")));

    dialog->table()->selectRow(0);
    dialog->findChild<QPushButton*>(QStringLiteral("loadModelButton"))->click();
    REQUIRE(waitFor([&] { return dialog->table()->item(0, 1)->text() == QStringLiteral("ready"); }));
    CHECK(f.generator->loads == 1);

    f.generator->failLoadWith = "config.json: unsupported field 'attention_type' = 'xformers'";
    dialog->table()->selectRow(0);
    dialog->findChild<QPushButton*>(QStringLiteral("unloadModelButton"))->click();
    REQUIRE(waitFor([&] { return dialog->table()->item(0, 1)->text() == QStringLiteral("unloaded"); }));
    dialog->table()->selectRow(0);
    dialog->findChild<QPushButton*>(QStringLiteral("loadModelButton"))->click();
    REQUIRE(waitFor([&] { return dialog->guidanceLabel()->text().contains(QStringLiteral("attention_type")); }));
    CHECK(modelFolderProblem(f.path("models/audioldm")).contains(QStringLiteral("does not exist")));
}

TEST_CASE("The Local API switch serves the app's own AudioApi on loopback and stops again", "[window][api]") {
    WindowFixture f;
    CHECK_FALSE(f.window->localApi()->running());
    CHECK_FALSE(f.window->localApiLabel()->isVisible());

    f.window->setLocalApiSettings({true, 0, QString()});  // port 0: any free port
    REQUIRE(f.window->localApi()->running());
    const int port = f.window->localApi()->port();
    CHECK(port > 0);
    CHECK(f.window->localApiToggle()->isChecked());
    CHECK(f.window->localApiLabel()->text().contains(QStringLiteral("http://127.0.0.1:%1/v1/").arg(port)));
    {
        httplib::Client client(LocalApiServer::kHost, port);
        auto res = client.Get("/v1/status");
        REQUIRE(res);
        CHECK(res->status == 200);
        const auto status = nlohmann::json::parse(res->body);
        // The test doubles registered on the window's AudioApi answer over HTTP.
        CHECK(status["audioldm"]["id"] == "audioldm");
        CHECK(status["wav2vec2"]["id"] == "wav2vec2");
    }
    CHECK(loadLocalApiSettings().enabled);

    f.window->localApiToggle()->trigger();  // off
    CHECK_FALSE(f.window->localApi()->running());
    CHECK_FALSE(f.window->localApiLabel()->isVisible());
    CHECK_FALSE(loadLocalApiSettings().enabled);
    {
        httplib::Client client(LocalApiServer::kHost, port);
        client.set_connection_timeout(1);
        CHECK_FALSE(client.Get("/v1/status"));
    }

    // With a token, requests without it are refused.
    f.window->setLocalApiSettings({true, 0, QStringLiteral("s3cret")});
    REQUIRE(f.window->localApi()->running());
    httplib::Client client(LocalApiServer::kHost, f.window->localApi()->port());
    auto refused = client.Get("/v1/status");
    REQUIRE(refused);
    CHECK(refused->status == 401);
    auto allowed = client.Get("/v1/status", {{"Authorization", "Bearer s3cret"}});
    REQUIRE(allowed);
    CHECK(allowed->status == 200);

    // A web page elsewhere cannot use it: foreign Host (DNS rebinding), foreign Origin, text/plain POST.
    auto rebound = client.Get("/v1/status", {{"Authorization", "Bearer s3cret"}, {"Host", "evil.example"}});
    REQUIRE(rebound);
    CHECK(rebound->status == 403);
    auto foreign = client.Get("/v1/status", {{"Authorization", "Bearer s3cret"}, {"Origin", "http://evil.example"}});
    REQUIRE(foreign);
    CHECK(foreign->status == 403);
    auto plain = client.Post("/v1/generate", {{"Authorization", "Bearer s3cret"}}, R"({"prompt":"x"})", "text/plain");
    REQUIRE(plain);
    CHECK(plain->status == 415);
    // The browser page is served by the app's Local API too, without the token.
    auto page = client.Get("/");
    REQUIRE(page);
    CHECK(page->status == 200);
    CHECK_THAT(page->get_header_value("Content-Type"), Catch::Contains("text/html"));
}

TEST_CASE("The Local API starts with the window when it was left on", "[window][api]") {
    QSettings().clear();
    saveLocalApiSettings({true, 0, QString()});
    CoreAdapter adapter;
    MainWindow window(&adapter);
    REQUIRE(window.localApi()->running());
    httplib::Client client(LocalApiServer::kHost, window.localApi()->port());
    auto res = client.Get("/v1/openapi.json");
    REQUIRE(res);
    CHECK(res->status == 200);
    QSettings().clear();
}

TEST_CASE("The Local API dialog edits the switch, port and token", "[window][api]") {
    LocalApiDialog dialog({false, 9000, QStringLiteral("abc")});
    CHECK_FALSE(dialog.enabledBox()->isChecked());
    CHECK(dialog.portBox()->value() == 9000);
    dialog.enabledBox()->setChecked(true);
    dialog.portBox()->setValue(9100);
    dialog.tokenEdit()->setText(QStringLiteral("  xyz "));
    const LocalApiSettings s = dialog.settings();
    CHECK(s.enabled);
    CHECK(s.port == 9100);
    CHECK(s.token == QStringLiteral("xyz"));
}

TEST_CASE("With the installed services and no models, analysis is DSP-only and Generate names the model folder",
          "[window][installed]") {
    WindowFixture f(false);
    setModelsFolder(f.dir.filePath(QStringLiteral("models")));
    ModelLocations locations;
    locations.root = modelsFolder().toStdString();
    addInstalledServices(f.adapter.api(), locations);  // what the desktop app does at start
    f.adapter.notifyServicesChanged();

    f.loadTone("speech.wav", 0.5);
    f.window->results()->analyseButton()->click();
    REQUIRE(waitFor([&] { return f.window->results()->status() == ResultsDisplay::Status::Success; }));
    REQUIRE(f.window->library()->find(f.window->currentClipId())->analysis.is_object());
    const nlohmann::json analysis = f.window->library()->find(f.window->currentClipId())->analysis;
    CHECK(analysis["features"]["duration_s"].get<double>() == Approx(0.5).margin(kOneSampleSeconds));

    f.fillValidForm();
    f.window->generationForm()->generateButton()->click();
    REQUIRE(waitFor([&] { return f.window->results()->status() == ResultsDisplay::Status::Error; }));
    CHECK(f.window->results()->statusLabel()->text().contains(QStringLiteral("audioldm")));
    QSettings().clear();
}

TEST_CASE("With an AudioLDM folder installed, Generate runs the real pipeline and adds the clip", "[window][installed]") {
    WindowFixture f(false);
    setModelsFolder(f.dir.filePath(QStringLiteral("models")));
    // The tiny golden pipeline stands in for a downloaded checkpoint: same layout, same code path.
    std::filesystem::create_directories(modelsFolder().toStdString());
    std::filesystem::copy(std::string(GRYM_TEST_DATA_DIR) + "/golden/audioldm_pipeline_ddim",
                          modelsFolder().toStdString() + "/audioldm", std::filesystem::copy_options::recursive);
    ModelLocations locations;
    locations.root = modelsFolder().toStdString();
    addInstalledServices(f.adapter.api(), locations);
    f.adapter.notifyServicesChanged();

    const int before = f.window->library()->count();
    f.fillValidForm(QStringLiteral("a dog barking in the rain"));
    f.window->generationForm()->durationEdit()->setText(QStringLiteral("1"));
    REQUIRE(f.window->generationForm()->isValid());
    f.window->generationForm()->stepsEdit()->setText(QStringLiteral("3"));
    f.window->generationForm()->generateButton()->click();
    auto finished = [&] {
        const auto status = f.window->results()->status();
        return status == ResultsDisplay::Status::Success || status == ResultsDisplay::Status::Error ||
               status == ResultsDisplay::Status::Cancelled;
    };
    waitFor(finished, 60000);
    INFO("status: " << static_cast<int>(f.window->results()->status()) << " "
                    << f.window->results()->statusLabel()->text().toStdString());
    REQUIRE(finished());
    REQUIRE(f.window->results()->status() == ResultsDisplay::Status::Success);
    REQUIRE(f.window->library()->count() == before + 1);
    const Clip& clip = f.window->library()->at(0);  // newest first
    CHECK(clip.source == ClipSource::Generated);
    CHECK(clip.sampleRate() > 0);
    // The real pipeline makes whole latent frames (mel frames rounded up to the VAE's
    // downsampling, pipeline.cpp), so the length is the request rounded up to that grain; the
    // installed test model's grain fits in 10 ms.
    CHECK(clip.duration() == Approx(1.0).margin(0.01));
    QSettings().clear();
}

TEST_CASE("The graphs read the AudioApi's memory monitor, with thresholds from the machine's RAM", "[window][graphs]") {
    CoreAdapter adapter;
    adapter.startMemoryMonitor(0.5, 0.75);
    const MemorySnapshot now = adapter.api().memorySnapshot();  // one sample into the ring buffer
    const QVector<ResourceSample> samples = adapter.resourceHistory();
    REQUIRE_FALSE(samples.isEmpty());
    CHECK(samples.back().ramTotal == now.systemTotalBytes);
    CHECK(samples.back().processRss > 0);
    CHECK(adapter.resourceThresholds().warningBytes == static_cast<quint64>(now.systemTotalBytes * 0.5));
    CHECK(adapter.resourceThresholds().errorBytes == static_cast<quint64>(now.systemTotalBytes * 0.75));
}
