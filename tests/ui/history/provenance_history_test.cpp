// The app's side of provenance, history and takes: generated clips carry their settings into
// saved files and the history folder, survive a crash (SIGKILL) of the app, come back at the
// next start; dropped files show their settings and fill the form; takes, prompt lists and the
// History view.
#include "core_adapter.h"
#include "generation_form.h"
#include "history_dialog.h"
#include "main_window.h"
#include "prompt_list_dialog.h"
#include "results_display.h"

#include "api/clip_provenance.h"
#include "api/installed_services.h"
#include "support/fake_services.h"
#include "ui/history/history_window.h"
#include "ui/ui_test_support.h"

#include <catch2/catch.hpp>

#include <QAction>
#include <QCheckBox>
#include <QDir>
#include <QFile>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTextStream>

#include <filesystem>
#include <iostream>

using namespace grym;
using namespace grym::ui;
using grym::test::HistoryWindow;
using grym::test::waitFor;

namespace {

QString promptOf(const Clip& clip) { return QString::fromStdString(clip.settings.value("prompt", std::string())); }

// The clips a window's library holds, as "prompt|seed", sorted.
QStringList clipKeys(const ClipLibrary& library) {
    QStringList keys;
    for (int row = 0; row < library.count(); ++row)
        keys << promptOf(library.at(row)) + QLatin1Char('|') + QString::number(library.at(row).settings.value("seed", qint64(-1)));
    keys.sort();
    return keys;
}

}  // namespace

TEST_CASE("Each finished generation is in the history folder at once, audio and settings JSON, and back in the library at the next start",
          "[history]") {
    QTemporaryDir history;
    QStringList made;
    {
        HistoryWindow w(history.path());
        w.generate(QStringLiteral("wind in pines"), 2);
        w.generate(QStringLiteral("a kettle whistling"), 1, QStringLiteral("7"));
        const QVector<HistoryEntry> entries = w.window->history().entries();
        REQUIRE(entries.size() == 3);
        for (const HistoryEntry& e : entries) {
            INFO(e.settingsPath.toStdString());
            CHECK(QFileInfo(e.audioPath).dir() == QFileInfo(e.settingsPath).dir());
            CHECK(QFileInfo(e.audioPath).completeBaseName() == QFileInfo(e.settingsPath).completeBaseName());
            CHECK(e.settings["negative_prompt"] == "hiss");
            CHECK(e.settings["steps"] == 4);
            CHECK(e.settings["precision"] == "fp32");
            // The audio there is the clip, and carries the same settings inside it.
            const auto inside = readProvenance(e.audioPath.toStdString());
            REQUIRE(inside);
            CHECK(toJson(*inside) == e.settings);
        }
        // No temporary files are left beside the entries.
        CHECK(QDir(history.path()).entryList(QDir::Files | QDir::Hidden).size() == 6);
        for (int row = 0; row < w.window->library()->count(); ++row)
            CHECK_FALSE(w.window->library()->at(row).historyPath.isEmpty());
        made = clipKeys(*w.window->library());
    }
    HistoryWindow again(history.path());
    CHECK(again.window->library()->count() == 0);
    again.window->restoreHistory();
    REQUIRE(waitFor([&] { return again.window->library()->count() == 3; }));
    CHECK(clipKeys(*again.window->library()) == made);
    const Clip& restored = again.window->library()->at(0);
    CHECK(restored.source == ClipSource::Generated);
    CHECK(restored.name.contains(QStringLiteral("seed")));
    CHECK(again.window->recentFiles().isEmpty());  // history is not the user's recent files
}

// Run by the SIGKILL test below in a child process; does nothing when run on its own.
TEST_CASE("history child: generate, report, then keep generating until killed", "[.history-kill-child]") {
    const QString folder = qEnvironmentVariable("GRYM_TEST_KILL_HISTORY");
    if (folder.isEmpty()) return;
    // The runner's settings folder cannot be removed by a killed process: the parent does it.
    std::cout << "SCRATCH " << qgetenv("XDG_CONFIG_HOME").toStdString() << std::endl;
    HistoryWindow w(folder);
    w.generate(QStringLiteral("glass breaking"), 3, QStringLiteral("100"));
    w.generate(QStringLiteral("footsteps on gravel"), 1, QStringLiteral("5"));
    for (const QString& key : clipKeys(*w.window->library())) std::cout << "CLIP " << key.toStdString() << "\n";
    // Mid-session: a generation is running when the parent kills us.
    w.generator->waitForCancel = true;
    w.fillForm(QStringLiteral("never finishes"));
    w.window->generationForm()->generateButton()->click();
    std::cout << "READY" << std::endl;
    QTest::qWait(60000);
}

TEST_CASE("After the app is killed with SIGKILL mid-generation, every clip that had finished is in the library at restart",
          "[history][crash]") {
    QTemporaryDir history;
    QProcess child;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("GRYM_TEST_KILL_HISTORY"), history.path());
    child.setProcessEnvironment(env);
    child.setProcessChannelMode(QProcess::SeparateChannels);
    child.start(QCoreApplication::applicationFilePath(), {QStringLiteral("[.history-kill-child]")});
    REQUIRE(child.waitForStarted(10000));
    QString out;
    REQUIRE(waitFor([&] {
        out += QString::fromUtf8(child.readAllStandardOutput());
        return out.contains(QStringLiteral("READY")) || child.state() == QProcess::NotRunning;
    }, 60000));
    INFO("child output:\n" << out.toStdString() << QString::fromUtf8(child.readAllStandardError()).toStdString());
    REQUIRE(out.contains(QStringLiteral("READY")));
    child.kill();  // SIGKILL: no destructor, no event loop, no flush runs
    REQUIRE(child.waitForFinished(10000));
    CHECK(child.exitStatus() == QProcess::CrashExit);

    QStringList finished;
    for (const QString& line : out.split(QLatin1Char('\n'))) {
        if (line.startsWith(QStringLiteral("CLIP "))) finished << line.mid(5);
        const QString scratch = line.mid(8).trimmed();
        if (line.startsWith(QStringLiteral("SCRATCH ")) && scratch.startsWith(QDir::tempPath() + QLatin1Char('/')))
            QDir(scratch).removeRecursively();
    }
    finished.sort();
    REQUIRE(finished.size() == 4);

    HistoryWindow restarted(history.path());
    restarted.window->restoreHistory();
    REQUIRE(waitFor([&] { return restarted.window->library()->count() == 4; }));
    QTest::qWait(100);
    CHECK(restarted.window->library()->count() == 4);  // and not the one that was running
    CHECK(clipKeys(*restarted.window->library()) == finished);
    for (int row = 0; row < 4; ++row) CHECK(restarted.window->library()->at(row).audio->frames() == 8000);
}

TEST_CASE("A saved generated clip carries its settings; dropped back, they show and Use These Settings fills the form",
          "[history][provenance]") {
    QTemporaryDir dir;
    HistoryWindow w(dir.filePath(QStringLiteral("history")));
    w.generate(QStringLiteral("a squeaky door"), 1, QStringLiteral("1234"));
    const quint64 generated = w.window->currentClipId();
    for (const QString& name : {QStringLiteral("door.wav"), QStringLiteral("door.flac")}) {
        const QString path = dir.filePath(name);
        QSignalSpy saved(&w.adapter, &CoreAdapter::audioSaved);
        w.window->saveClipTo(generated, path);
        REQUIRE(waitFor([&] { return saved.size() == 1; }));
        const auto settings = readProvenance(path.toStdString());
        REQUIRE(settings);
        CHECK(settings->prompt == "a squeaky door");
        CHECK(settings->seed == 1234);
    }

    w.window->generationForm()->resetToDefaults();
    const int before = w.window->library()->count();
    test::dropFiles(w.window->libraryView()->viewport(), {dir.filePath(QStringLiteral("door.flac"))});
    REQUIRE(waitFor([&] { return w.window->library()->count() == before + 1; }));
    const Clip& dropped = w.window->library()->at(0);
    REQUIRE(dropped.settings.is_object());
    CHECK(promptOf(dropped) == QStringLiteral("a squeaky door"));
    CHECK(w.window->results()->metricText(QStringLiteral("prompt")) == QStringLiteral("a squeaky door"));
    QAction* use = w.action(QStringLiteral("Use These Settings"));
    REQUIRE(use->isEnabled());
    use->trigger();
    GenerationForm* form = w.window->generationForm();
    CHECK(form->promptEdit()->toPlainText() == QStringLiteral("a squeaky door"));
    CHECK(form->negativePromptEdit()->text() == QStringLiteral("hiss"));
    CHECK(form->seedEdit()->text() == QStringLiteral("1234"));
    CHECK(form->seedLockBox()->isChecked());
    CHECK(form->stepsEdit()->text() == QStringLiteral("4"));
    CHECK(form->durationEdit()->text() == QStringLiteral("0.5"));
    CHECK(form->isValid());

    // A plain file has no settings to use.
    test::writeTone(dir.filePath(QStringLiteral("plain.wav")), 0.2);
    w.window->openPaths({dir.filePath(QStringLiteral("plain.wav"))});
    REQUIRE(waitFor([&] { return w.window->library()->count() == before + 2; }));
    CHECK_FALSE(use->isEnabled());
}

TEST_CASE("Takes of one request form a group with their seeds; keep, discard and more like this", "[history][takes]") {
    QTemporaryDir dir;
    HistoryWindow w(dir.filePath(QStringLiteral("history")));
    w.generate(QStringLiteral("a cymbal swell"), 3, QStringLiteral("50"));
    ClipLibrary* library = w.window->library();
    const quint64 group = library->at(0).takeGroup;
    REQUIRE(group != 0);
    const QVector<quint64> takes = library->takesOf(group);
    REQUIRE(takes.size() == 3);
    for (int i = 0; i < 3; ++i) {
        const Clip* take = library->find(takes[i]);
        CHECK(take->takeIndex == i + 1);
        CHECK(take->takeCount == 3);
        CHECK(take->settings["seed"] == 50 + i);
        CHECK(library->data(library->index(library->rowOf(take->id), ClipLibrary::Take), Qt::DisplayRole).toString() ==
              QStringLiteral("%1/3").arg(i + 1));
    }

    w.window->selectClip(takes[1]);
    QAction* keep = w.action(QStringLiteral("Keep Take"));
    keep->trigger();
    CHECK(library->find(takes[1])->kept);
    CHECK(library->data(library->index(library->rowOf(takes[1]), ClipLibrary::Take), Qt::DisplayRole).toString().contains(QStringLiteral("\u2605")));
    w.window->selectClip(takes[2]);
    w.action(QStringLiteral("Discard Take"))->trigger();
    CHECK(library->find(takes[2]) == nullptr);
    CHECK(library->takesOf(group).size() == 2);
    CHECK(w.window->history().entries().size() == 3);  // discarding keeps the history

    // More like this: new takes varying the kept one, with its prompt and new seeds.
    w.window->selectClip(takes[1]);
    const int before = library->count();
    w.action(QStringLiteral("More Like This"))->trigger();
    REQUIRE(waitFor([&] { return library->count() == before + 3 && w.window->activeGenerations() == 0; }, 20000));
    REQUIRE(waitFor([&] { return w.allRecorded(); }));
    CHECK(w.generator->lastHadAudio);
    CHECK(w.generator->lastPrompt == "a cymbal swell");
    const Clip& variation = library->at(0);
    CHECK(variation.source == ClipSource::Variation);
    CHECK(variation.takeGroup != group);
    CHECK(variation.takeCount == 3);
    CHECK(variation.settings.contains("variation_strength"));
}

TEST_CASE("A prompt list runs as one batch with progress per prompt", "[history][batch]") {
    QTemporaryDir dir;
    HistoryWindow w(dir.filePath(QStringLiteral("history")));
    w.generator->stepTime = std::chrono::milliseconds(10);
    w.fillForm(QStringLiteral("ignored"), 2);
    const QString listFile = dir.filePath(QStringLiteral("prompts.txt"));
    {
        QFile file(listFile);
        REQUIRE(file.open(QIODevice::WriteOnly));
        file.write("rain on leaves\n\n# a comment\n  distant thunder  \nbirdsong at dawn\n");
    }
    PromptListDialog* list = w.window->showPromptList();
    QString error;
    REQUIRE(list->loadFile(listFile, &error));
    CHECK(list->prompts() == QStringList({QStringLiteral("rain on leaves"), QStringLiteral("distant thunder"),
                                          QStringLiteral("birdsong at dawn")}));
    QVector<double> seen;  // the last prompt's progress after each update the window handled
    QObject::connect(&w.adapter, &CoreAdapter::taskProgressed, list, [&] { seen << list->promptProgress(2); });
    list->queueButton()->click();
    REQUIRE(list->batchSize() == 3);
    CHECK(w.window->activeGenerations() == 6);
    REQUIRE(waitFor([&] { return w.window->activeGenerations() == 0; }, 30000));
    REQUIRE(waitFor([&] { return w.allRecorded(); }));
    for (int row = 0; row < 3; ++row) {
        CHECK(list->promptState(row) == QStringLiteral("done"));
        CHECK(list->promptProgress(row) == 1.0);
    }
    CHECK(std::any_of(seen.begin(), seen.end(), [](double f) { return f > 0.0 && f < 1.0; }));  // it moved
    QStringList prompts;
    for (int row = 0; row < w.window->library()->count(); ++row) prompts << promptOf(w.window->library()->at(row));
    CHECK(prompts.count(QStringLiteral("distant thunder")) == 2);
    CHECK(prompts.count(QStringLiteral("rain on leaves")) == 2);
    CHECK(prompts.count(QStringLiteral("birdsong at dawn")) == 2);
    CHECK(w.window->history().entries().size() == 6);

    // A prompt the API refuses (too long) says so in its own row; the others finish.
    w.fillForm(QStringLiteral("ignored"), 1);
    QString tooLong(600, QLatin1Char('x'));
    list->editor()->setPlainText(QStringLiteral("short one\n") + tooLong);
    list->queueButton()->click();
    REQUIRE(waitFor([&] { return w.window->activeGenerations() == 0; }, 20000));
    CHECK(list->promptState(0) == QStringLiteral("done"));
    CHECK(list->promptState(1).startsWith(QStringLiteral("failed")));
}

TEST_CASE("The History view finds generations by prompt and runs one again with the same settings", "[history][view]") {
    QTemporaryDir dir;
    HistoryWindow w(dir.filePath(QStringLiteral("history")));
    w.generate(QStringLiteral("a cat purring"), 1, QStringLiteral("3"));
    w.generate(QStringLiteral("a dog barking"), 1, QStringLiteral("9"));
    w.generate(QStringLiteral("a cat meowing"), 1, QStringLiteral("11"));
    HistoryDialog* view = w.window->showHistory();
    CHECK(view->shown().size() == 3);
    CHECK(view->shown().front().prompt() == QStringLiteral("a cat meowing"));  // newest first
    view->searchEdit()->setText(QStringLiteral("CAT"));
    CHECK(view->shown().size() == 2);
    view->searchEdit()->setText(QStringLiteral("dog bark"));
    REQUIRE(view->shown().size() == 1);
    view->selectRow(0);

    const int before = w.window->library()->count();
    view->runAgainButton()->click();
    REQUIRE(waitFor([&] { return w.window->library()->count() == before + 1 && w.window->activeGenerations() == 0; }));
    const Clip& again = w.window->library()->at(0);
    CHECK(promptOf(again) == QStringLiteral("a dog barking"));
    CHECK(again.settings["seed"] == 9);
    CHECK(w.generator->lastPrompt == "a dog barking");
    REQUIRE(waitFor([&] { return view->shown().size() == 2 && w.window->history().entries().size() == 4; }));

    view->useSettingsButton()->click();
    CHECK(w.window->generationForm()->promptEdit()->toPlainText() == QStringLiteral("a dog barking"));
    CHECK(w.window->generationForm()->seedEdit()->text() == QStringLiteral("9"));

    // Open: the entry's clip is selected in the library (loaded from the folder when it is not there).
    w.window->discardTake(w.window->library()->at(0).id);
    const int count = w.window->library()->count();
    view->openButton()->click();
    REQUIRE(waitFor([&] { return w.window->library()->count() == count + 1; }));
    CHECK(promptOf(w.window->library()->at(0)) == QStringLiteral("a dog barking"));
}

TEST_CASE("With the real (tiny) pipeline, a dropped clip's settings generate the same audio bit for bit",
          "[history][provenance][installed]") {
    QTemporaryDir dir;
    HistoryWindow w(dir.filePath(QStringLiteral("history")), false);
    ModelLocations locations;
    const std::string models = dir.filePath(QStringLiteral("models")).toStdString();
    std::filesystem::create_directories(models);
    std::filesystem::copy(std::string(GRYM_TEST_DATA_DIR) + "/golden/audioldm_pipeline_ddim", models + "/audioldm",
                          std::filesystem::copy_options::recursive);
    locations.root = models;
    addInstalledServices(w.adapter.api(), locations);
    w.adapter.notifyServicesChanged();

    w.fillForm(QStringLiteral("a dog barking in the rain"), 1, QStringLiteral("77"));
    w.window->generationForm()->stepsEdit()->setText(QStringLiteral("2"));
    w.window->generationForm()->durationEdit()->setText(QStringLiteral("0.32"));
    w.window->generationForm()->generateButton()->click();
    REQUIRE(waitFor([&] { return w.window->library()->count() == 1 && w.window->activeGenerations() == 0; }, 60000));
    REQUIRE(waitFor([&] { return w.allRecorded(); }));
    const quint64 first = w.window->currentClipId();
    const auto firstAudio = w.window->library()->find(first)->audio;
    REQUIRE(firstAudio);

    // Out through a float WAV in the history folder, back in by a drop, and Use These Settings.
    const QString file = w.window->library()->find(first)->historyPath;
    REQUIRE(QFileInfo::exists(file));
    w.window->generationForm()->resetToDefaults();
    test::dropFiles(w.window->libraryView()->viewport(), {file});
    REQUIRE(waitFor([&] { return w.window->library()->count() == 2; }));
    w.action(QStringLiteral("Use These Settings"))->trigger();
    REQUIRE(w.window->generationForm()->isValid());
    w.window->generationForm()->generateButton()->click();
    REQUIRE(waitFor([&] { return w.window->library()->count() == 3 && w.window->activeGenerations() == 0; }, 60000));
    const Clip& again = w.window->library()->at(0);
    REQUIRE(again.audio);
    CHECK(again.audio->samples == firstAudio->samples);
    QSettings().clear();
}
