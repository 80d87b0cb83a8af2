// Out to other tools from the window: library rows and waveform selections drag out as real
// files, the Export dialog writes trimmed, faded, normalised files, and the library's columns
// fit what they show.
#include "clip_drag.h"
#include "clip_library.h"
#include "core_adapter.h"
#include "data_paths.h"
#include "drag_out_handle.h"
#include "export_dialog.h"
#include "main_window.h"
#include "results_display.h"
#include "spectrogram_view.h"
#include "waveform_view.h"

#include "api/clip_provenance.h"
#include "support/sample_provenance.h"
#include "core/audio/loudness_meter.h"
#include "ui/ui_test_support.h"

#include <catch2/catch.hpp>

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMimeData>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>

#include <memory>

using namespace grym;
using namespace grym::ui;
using grym::test::waitFor;

namespace {

struct ExportFixture {
    QTemporaryDir dir;
    std::shared_ptr<AudioApi> api = std::make_shared<AudioApi>();
    CoreAdapter adapter{api};
    std::unique_ptr<MainWindow> window;

    ExportFixture() {
        QSettings().clear();
        window = std::make_unique<MainWindow>(&adapter);
        window->show();
        REQUIRE(QTest::qWaitForWindowExposed(window.get()));
    }

    QString path(const QString& name) const { return dir.filePath(name); }

    quint64 load(const QString& name, double seconds, int rate = 16000, int channels = 1) {
        test::writeTone(path(name), seconds, rate, channels);
        const int before = window->library()->count();
        window->openPaths({path(name)});
        REQUIRE(waitFor([&] { return window->library()->count() == before + 1; }));
        return window->currentClipId();
    }
};

QString onlyLocalFile(const QMimeData* mime) {
    REQUIRE(mime);
    REQUIRE(mime->hasUrls());
    REQUIRE(mime->urls().size() == 1);
    REQUIRE(mime->urls().front().isLocalFile());
    CHECK(mime->formats().contains(QStringLiteral("text/uri-list")));
    return mime->urls().front().toLocalFile();
}

}  // namespace

TEST_CASE("A library row drags out as the URL of a real file in the drag-out format", "[window][export][drag]") {
    ExportFixture f;
    f.load(QStringLiteral("rain: take 1.wav"), 0.75, 22050, 2);
    ClipLibrary* library = f.window->library();
    CHECK(f.window->libraryView()->dragEnabled());
    CHECK(library->flags(library->index(0, 0)).testFlag(Qt::ItemIsDragEnabled));

    f.window->setDragOutFormat(ExportFormat::Flac);
    CHECK(QSettings().value(QStringLiteral("export/dragFormat")).toString() == QStringLiteral("flac"));
    const QModelIndexList row = {library->index(0, 0), library->index(0, 1), library->index(0, 2), library->index(0, 3)};
    std::unique_ptr<QMimeData> mime(library->mimeData(row));
    const QString file = onlyLocalFile(mime.get());
    INFO(file.toStdString());
    CHECK(QFileInfo(file).absolutePath() == QDir(userDataDirectory()).filePath(QStringLiteral("drag-out")));
    CHECK(QFileInfo(file).fileName() == QStringLiteral("rain_ take 1.flac"));
    AudioFileInfo info;
    const AudioBuffer back = loadAudioFile(file.toStdString(), {}, &info);
    CHECK(info.container == "FLAC");
    CHECK(back.frames() == library->at(0).audio->frames());
    CHECK(back.channels == 2);
    CHECK(back.sampleRate == 22050);

    // A second drag never overwrites a file a DAW may still be using.
    std::unique_ptr<QMimeData> again(library->mimeData(row));
    const QString second = onlyLocalFile(again.get());
    CHECK(second != file);
    CHECK(QFileInfo::exists(file));
    CHECK(QFileInfo(second).fileName() == QStringLiteral("rain_ take 1 (2).flac"));

    SECTION("the format is remembered for the next window") {
        f.window.reset();
        MainWindow next(&f.adapter);
        CHECK(next.dragExporter()->format() == ExportFormat::Flac);
    }
}

TEST_CASE("Shift+drag selects a range in the waveform and a drag from inside it asks to drag it out",
          "[window][export][drag]") {
    WaveformView view;
    view.resize(412, 120);  // 400 px of waveform between the 6 px margins
    view.setAudio(std::make_shared<const AudioBuffer>(test::tone(4.0)));
    view.show();
    REQUIRE(QTest::qWaitForWindowExposed(&view));
    QSignalSpy seeks(&view, &WaveformView::seekRequested);
    QSignalSpy drags(&view, &WaveformView::dragOutRequested);

    QTest::mousePress(&view, Qt::LeftButton, Qt::ShiftModifier, QPoint(106, 60));  // 1.0 s
    QTest::mouseMove(&view, QPoint(206, 60));                                       // 2.0 s
    QTest::mouseRelease(&view, Qt::LeftButton, Qt::ShiftModifier, QPoint(206, 60));
    REQUIRE(view.selection());
    CHECK(view.selection()->startSeconds == Approx(1.0));
    CHECK(view.selection()->endSeconds == Approx(2.0));
    CHECK(seeks.isEmpty());

    QTest::mousePress(&view, Qt::LeftButton, Qt::NoModifier, QPoint(150, 60));
    QTest::mouseMove(&view, QPoint(150 + 4 * QApplication::startDragDistance(), 60));
    QTest::mouseRelease(&view, Qt::LeftButton, Qt::NoModifier, QPoint(150 + 4 * QApplication::startDragDistance(), 60));
    CHECK(drags.size() == 1);
    CHECK(view.selection());

    // A click outside the selection seeks and clears it.
    QTest::mouseClick(&view, Qt::LeftButton, Qt::NoModifier, QPoint(356, 60));
    CHECK_FALSE(view.selection());
    REQUIRE(seeks.size() == 1);
    CHECK(seeks.front().front().toDouble() == Approx(3.5));
}

TEST_CASE("Shift+drag in the spectrogram selects the same range the waveform holds, and each view shows the other's",
          "[window][export][selection]") {
    ExportFixture f;
    f.load(QStringLiteral("tone.wav"), 4.0);
    SpectrogramView* spectrogram = f.window->results()->spectrogram();
    WaveformView* waveform = f.window->results()->waveform();
    REQUIRE(spectrogram->width() > 40);
    QSignalSpy seeks(spectrogram, &SpectrogramView::seekRequested);

    const int width = spectrogram->width();
    test::shiftDrag(spectrogram, width / 4, width / 2);  // about 1.0 s to 2.0 s
    REQUIRE(waveform->selection());
    CHECK(waveform->selection()->startSeconds == Approx(4.0 * (width / 4) / width).margin(1e-6));
    CHECK(waveform->selection()->endSeconds == Approx(4.0 * (width / 2) / width).margin(1e-6));
    REQUIRE(spectrogram->selection());
    CHECK(spectrogram->selection()->startSeconds == waveform->selection()->startSeconds);
    CHECK(seeks.isEmpty());  // selecting does not move the playhead

    waveform->setSelection(TimeRange{2.5, 3.0});
    REQUIRE(spectrogram->selection());
    CHECK(spectrogram->selection()->startSeconds == Approx(2.5));
    CHECK(spectrogram->selection()->endSeconds == Approx(3.0));

    // A Shift+click clears it in both; a plain click seeks.
    QTest::mouseClick(spectrogram, Qt::LeftButton, Qt::ShiftModifier, QPoint(width / 3, spectrogram->height() / 2));
    CHECK_FALSE(waveform->selection());
    CHECK_FALSE(spectrogram->selection());
    QTest::mouseClick(spectrogram, Qt::LeftButton, Qt::NoModifier, QPoint(width / 2, spectrogram->height() / 2));
    CHECK(seeks.size() == 1);
}

TEST_CASE("A waveform selection drags out as a file holding exactly that range", "[window][export][drag]") {
    ExportFixture f;
    const quint64 id = f.load(QStringLiteral("pad.wav"), 2.0);
    WaveformView* waveform = f.window->results()->waveform();
    waveform->setSelection(TimeRange{0.25, 1.0});
    CHECK(f.window->results()->dragOutHandle()->isEnabled());
    const Clip* clip = f.window->library()->find(id);
    REQUIRE(clip);
    std::unique_ptr<QMimeData> mime(f.window->dragExporter()->mimeDataFor(*clip, waveform->selection()));
    const QString file = onlyLocalFile(mime.get());
    CHECK(QFileInfo(file).fileName() == QStringLiteral("pad 0.25-1.00 s.wav"));
    const AudioBuffer back = loadAudioFile(file.toStdString());
    CHECK(back.frames() == 12000);  // 0.75 s at 16 kHz
    // The range's samples, within 24-bit rounding.
    for (int64_t i = 0; i < back.frames(); i += 997)
        REQUIRE(back.samples[i] == Approx(clip->audio->samples[4000 + i]).margin(1.0 / (1 << 22)));
}

TEST_CASE("The Export dialog writes the trimmed, faded, normalised clip and explains what it cannot do",
          "[window][export][dialog]") {
    ExportFixture f;
    f.load(QStringLiteral("tone.wav"), 3.0);
    f.window->results()->waveform()->setSelection(TimeRange{0.5, 2.5});
    ExportDialog* dialog = f.window->openExportDialog();
    REQUIRE(dialog);
    CHECK(dialog->trimStartBox()->value() == Approx(0.5));
    CHECK(dialog->trimEndBox()->value() == Approx(2.5));

    dialog->formatBox()->setCurrentIndex(dialog->formatBox()->findData(QStringLiteral("flac")));
    CHECK(dialog->pathEdit()->text().endsWith(QStringLiteral(".flac")));
    const QString out = f.path(QStringLiteral("for the mix.flac"));
    dialog->pathEdit()->setText(out);
    QPushButton* exportButton = dialog->buttons()->button(QDialogButtonBox::Ok);

    dialog->fadeInBox()->setValue(1.5);
    dialog->fadeOutBox()->setValue(1.0);
    CHECK_FALSE(exportButton->isEnabled());
    CHECK(dialog->problem().contains(QStringLiteral("longer than")));
    dialog->fadeInBox()->setValue(0.25);
    dialog->fadeOutBox()->setValue(0.5);
    dialog->normaliseBox()->setChecked(true);
    dialog->targetBox()->setValue(-20.0);
    REQUIRE(exportButton->isEnabled());

    QSignalSpy exported(&f.adapter, &CoreAdapter::clipExported);
    exportButton->click();
    REQUIRE(waitFor([&] { return exported.size() == 1; }));
    CHECK(exported.front().front().toString() == out);
    AudioFileInfo info;
    const AudioBuffer back = loadAudioFile(out.toStdString(), {}, &info);
    CHECK(info.container == "FLAC");
    CHECK(back.frames() == 32000);  // 2 s at 16 kHz
    CHECK(back.samples.front() == 0.0f);
    CHECK(back.samples.back() == 0.0f);
    CHECK(std::abs(test::measureLufs(back) - (-20.0)) <= 0.1);
    CHECK(QSettings().value(QStringLiteral("export/format")).toString() == QStringLiteral("flac"));

    SECTION("an unwritable destination is reported with the file's name") {
        ExportDialog* next = f.window->openExportDialog();
        REQUIRE(next);
        CHECK(next->formatBox()->currentData().toString() == QStringLiteral("flac"));  // remembered
        next->pathEdit()->setText(f.path(QStringLiteral("missing folder/out.flac")));
        QSignalSpy failed(&f.adapter, &CoreAdapter::exportFailed);
        next->buttons()->button(QDialogButtonBox::Ok)->click();
        REQUIRE(waitFor([&] { return failed.size() == 1; }));
        CHECK(failed.front().at(1).toString().contains(QStringLiteral("missing folder")));
        CHECK(f.window->results()->status() == ResultsDisplay::Status::Error);
    }
    SECTION("a file name that does not match the format is refused before export") {
        ExportDialog* next = f.window->openExportDialog();
        next->pathEdit()->setText(f.path(QStringLiteral("out.wav")));
        CHECK_FALSE(next->buttons()->button(QDialogButtonBox::Ok)->isEnabled());
        CHECK(next->problem().contains(QStringLiteral(".flac")));
    }
}

TEST_CASE("A generated clip keeps its settings in the files the Export dialog and a drag-out write",
          "[window][export][provenance]") {
    ExportFixture f;
    const ClipProvenance settings = test::sampleProvenance("glass chimes in wind", 7);
    const QString source = f.path(QStringLiteral("chimes.wav"));
    test::writeTone(source, 2.0, 16000, 1);
    saveAudioFile(source.toStdString(), loadAudioFile(source.toStdString()),
                  {AudioFileFormat::FromExtension, SampleEncoding::Float32, toAudioMetadata(settings)});
    const int before = f.window->library()->count();
    f.window->openPaths({source});
    REQUIRE(waitFor([&] { return f.window->library()->count() == before + 1; }));

    ExportDialog* dialog = f.window->openExportDialog();
    REQUIRE(dialog);
    dialog->formatBox()->setCurrentIndex(dialog->formatBox()->findData(QStringLiteral("flac")));
    const QString out = f.path(QStringLiteral("chimes for the mix.flac"));
    dialog->pathEdit()->setText(out);
    QSignalSpy exported(&f.adapter, &CoreAdapter::clipExported);
    dialog->buttons()->button(QDialogButtonBox::Ok)->click();
    REQUIRE(waitFor([&] { return exported.size() == 1; }));
    const auto exportedSettings = readProvenance(out.toStdString());
    REQUIRE(exportedSettings);
    CHECK(toJson(*exportedSettings) == toJson(settings));

    f.window->setDragOutFormat(ExportFormat::Wav24);
    ClipLibrary* library = f.window->library();
    const int row = library->count() - 1;
    std::unique_ptr<QMimeData> mime(library->mimeData({library->index(row, 0)}));
    const QString dragged = onlyLocalFile(mime.get());
    const auto draggedSettings = readProvenance(dragged.toStdString());
    REQUIRE(draggedSettings);
    CHECK(toJson(*draggedSettings) == toJson(settings));
}

TEST_CASE("The library's columns fit their content at the default window size", "[window][library]") {
    ExportFixture f;
    f.load(QStringLiteral("a.wav"), 65.3, 44100);
    f.load(QStringLiteral("b.wav"), 1.0, 16000);
    f.load(QStringLiteral("c.wav"), 1.0, 48000);
    QTableView* view = f.window->libraryView();
    QTest::qWait(100);  // the columns are fitted, then the docks laid out again, from the event loop
    for (int column : {ClipLibrary::Duration, ClipLibrary::Rate, ClipLibrary::Source, ClipLibrary::Take}) {
        INFO("column " << column);
        CHECK(view->columnWidth(column) >= static_cast<QAbstractItemView*>(view)->sizeHintForColumn(column));  // public there, protected in QTableView
        CHECK(view->columnWidth(column) >= view->horizontalHeader()->sectionSizeHint(column));
        for (int row = 0; row < f.window->library()->count(); ++row) {
            const QString text = f.window->library()->data(f.window->library()->index(row, column), Qt::DisplayRole).toString();
            CHECK(view->columnWidth(column) > view->fontMetrics().horizontalAdvance(text));
        }
    }
    // The name keeps room to be read.
    CHECK(view->columnWidth(ClipLibrary::Name) >= view->fontMetrics().horizontalAdvance(QStringLiteral("rain texture.wav")));
}
