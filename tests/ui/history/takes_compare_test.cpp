// Compare Takes: the takes of a group side by side under one playhead, switched A/B at the same
// position, looped over one range, kept and discarded through the library.
#include "audio_controls.h"
#include "audio_player.h"
#include "clip_library.h"
#include "takes_compare_dialog.h"
#include "waveform_view.h"

#include "ui/history/history_window.h"

#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QToolButton>

#include <algorithm>

using namespace grym;
using namespace grym::ui;
using grym::test::HistoryWindow;
using grym::test::waitFor;

namespace {

constexpr double kTakeSeconds = 3.0;
// How far the silent clock (or the device's position) may move between two reads in a test.
constexpr double kSwitchSlackSeconds = 0.1;

// A window with three 3-second takes of one request (seeds 50, 51, 52), the comparison open on
// the second one.
struct ComparedTakes {
    QTemporaryDir dir;
    HistoryWindow w{dir.filePath(QStringLiteral("history"))};
    QVector<quint64> takes;
    TakesCompareDialog* dialog = nullptr;

    ComparedTakes() {
        w.duration = QString::number(kTakeSeconds);
        w.generate(QStringLiteral("a cymbal swell"), 3, QStringLiteral("50"));
        takes = w.window->library()->takesOf(w.window->library()->at(0).takeGroup);
        REQUIRE(takes.size() == 3);
        w.window->selectClip(takes[1]);
        QAction* compare = w.action(QStringLiteral("Compare Takes…"));
        REQUIRE(compare->isEnabled());
        compare->trigger();
        dialog = w.window->takesComparison();
        REQUIRE(dialog);
        REQUIRE(QTest::qWaitForWindowExposed(dialog));
        dialog->activateWindow();
        REQUIRE(QTest::qWaitForWindowActive(dialog));
    }

    const Clip* clip(quint64 id) const { return w.window->library()->find(id); }
    AudioPlayer* player() const { return dialog->player(); }
    std::shared_ptr<const AudioBuffer> playing() const { return player()->audio(); }
};

}  // namespace

TEST_CASE("Compare Takes opens from a take group: every take stacked with its seed, the selected one cued", "[takes][compare]") {
    ComparedTakes c;
    CHECK(c.dialog->takes() == c.takes);
    for (int i = 0; i < 3; ++i) {
        const QString label = c.dialog->rowOf(c.takes[i])->take->text();
        CHECK(label.contains(QStringLiteral("Take %1/3").arg(i + 1)));
        CHECK(label.contains(QStringLiteral("seed %1").arg(50 + i)));
        CHECK(c.dialog->rowOf(c.takes[i])->waveform->duration() == Approx(c.clip(c.takes[i])->duration()));
    }
    CHECK(c.dialog->activeTake() == c.takes[1]);
    CHECK(c.dialog->rowOf(c.takes[1])->take->isChecked());
    CHECK_FALSE(c.dialog->rowOf(c.takes[0])->take->isChecked());
    CHECK(c.playing() == c.clip(c.takes[1])->audio);
    // The action is also on the library row's own menu.
    CHECK(c.w.window->libraryView()->actions().contains(c.w.action(QStringLiteral("Compare Takes…"))));

    // A clip that is not a take has nothing to compare.
    c.w.generate(QStringLiteral("a single hit"), 1);
    CHECK_FALSE(c.w.action(QStringLiteral("Compare Takes…"))->isEnabled());
    CHECK(c.w.window->compareTakes(c.w.window->currentClipId()) == nullptr);

    // Opening it again from another take of the group shows the same comparison on that take.
    CHECK(c.w.window->compareTakes(c.takes[2]) == c.dialog);
    CHECK(c.dialog->activeTake() == c.takes[2]);
}

TEST_CASE("Switching takes in the comparison goes on from the same position", "[takes][compare][playback]") {
    ComparedTakes c;
    AudioPlayer* player = c.player();
    player->play();
    REQUIRE(waitFor([&] { return player->position() > 0.4; }));

    // Key 3: take 3 sounds from where take 2 was, still playing.
    const double before = player->position();
    QTest::keyClick(c.dialog, Qt::Key_3);
    const double after = player->position();
    CHECK(c.playing() == c.clip(c.takes[2])->audio);
    CHECK(c.dialog->activeTake() == c.takes[2]);
    CHECK(player->state() == AudioPlayer::State::Playing);
    CHECK(after >= before - 1e-6);
    CHECK(after < before + kSwitchSlackSeconds);
    // Every take's waveform shows the one playhead.
    REQUIRE(waitFor([&] { return c.dialog->rowOf(c.takes[0])->waveform->playhead() > after; }));
    for (quint64 take : c.takes)
        CHECK(c.dialog->rowOf(take)->waveform->playhead() == Approx(c.dialog->rowOf(c.takes[2])->waveform->playhead()));

    // Paused, a take's button switches without moving the position at all.
    player->pause();
    const double paused = player->position();
    c.dialog->rowOf(c.takes[0])->take->click();
    CHECK(c.playing() == c.clip(c.takes[0])->audio);
    CHECK(player->state() == AudioPlayer::State::Paused);
    CHECK(player->position() == Approx(paused).margin(1e-9));
    CHECK(c.dialog->rowOf(c.takes[0])->take->isChecked());
    CHECK_FALSE(c.dialog->rowOf(c.takes[2])->take->isChecked());

    // A click in a take's waveform switches to that take there.
    WaveformView* second = c.dialog->rowOf(c.takes[1])->waveform;
    QTest::mouseClick(second, Qt::LeftButton, Qt::NoModifier, QPoint(second->width() / 2, second->height() / 2));
    CHECK(c.playing() == c.clip(c.takes[1])->audio);
    CHECK(player->position() == Approx(kTakeSeconds / 2).margin(0.1));

    // One player sounds at a time: the window's pauses the comparison's, and back.
    player->play();
    c.w.window->player()->play();
    CHECK(player->state() == AudioPlayer::State::Paused);
    player->play();
    CHECK(c.w.window->player()->state() == AudioPlayer::State::Paused);
    // Closing the comparison stops it.
    c.dialog->close();
    CHECK(player->state() == AudioPlayer::State::Stopped);
}

TEST_CASE("Keep and Discard in the comparison update the library, and discards elsewhere update the comparison",
          "[takes][compare][keep]") {
    ComparedTakes c;
    ClipLibrary* library = c.w.window->library();
    auto takeColumn = [&](quint64 id) { return library->data(library->index(library->rowOf(id), ClipLibrary::Take), Qt::DisplayRole).toString(); };

    QToolButton* keep = c.dialog->rowOf(c.takes[1])->keep;
    keep->click();
    CHECK(c.clip(c.takes[1])->kept);
    CHECK(takeColumn(c.takes[1]).contains(QStringLiteral("\u2605")));
    CHECK(keep->isChecked());
    CHECK(keep->text().contains(QStringLiteral("Kept")));
    keep->click();
    CHECK_FALSE(c.clip(c.takes[1])->kept);
    CHECK_FALSE(takeColumn(c.takes[1]).contains(QStringLiteral("\u2605")));
    // Kept from the window's menu: the comparison shows it.
    c.w.window->selectClip(c.takes[0]);
    c.w.action(QStringLiteral("Keep Take"))->trigger();
    CHECK(c.dialog->rowOf(c.takes[0])->keep->isChecked());

    // Discarding the take that plays: it leaves the library (not the history), the next one
    // plays on from the same position.
    AudioPlayer* player = c.player();
    player->seek(1.25);
    c.dialog->rowOf(c.takes[1])->discard->click();
    CHECK(c.clip(c.takes[1]) == nullptr);
    CHECK(library->takesOf(c.dialog->group()).size() == 2);
    CHECK(c.w.window->history().entries().size() == 3);
    CHECK(c.dialog->takes() == QVector<quint64>{c.takes[0], c.takes[2]});
    CHECK(c.dialog->activeTake() == c.takes[2]);
    CHECK(c.playing() == c.clip(c.takes[2])->audio);
    CHECK(player->position() == Approx(1.25).margin(1e-9));
    // The keys follow the rows: take 3 is now key 2.
    CHECK(c.dialog->rowOf(c.takes[2])->take->text().startsWith(QStringLiteral("2")));

    // Discarded from the window's menu: its row goes too.
    c.w.window->selectClip(c.takes[0]);
    c.w.action(QStringLiteral("Discard Take"))->trigger();
    CHECK(c.dialog->takes() == QVector<quint64>{c.takes[2]});
    c.dialog->rowOf(c.takes[2])->discard->click();
    CHECK(c.dialog->takes().isEmpty());
    CHECK(c.dialog->activeTake() == 0);
    CHECK_FALSE(c.playing());
    CHECK(library->takesOf(c.dialog->group()).isEmpty());
}

TEST_CASE("A range selected in one take is selected in all and loops whichever take plays", "[takes][compare][loop]") {
    ComparedTakes c;
    AudioPlayer* player = c.player();
    WaveformView* first = c.dialog->rowOf(c.takes[0])->waveform;
    test::shiftDrag(first, first->width() / 4, first->width() / 2);
    const std::optional<TimeRange> range = c.dialog->loopRange();
    REQUIRE(range);
    // The view's margins make the pixels a little off the exact quarter and half.
    CHECK(range->startSeconds == Approx(kTakeSeconds / 4).margin(0.1));
    CHECK(range->endSeconds == Approx(kTakeSeconds / 2).margin(0.1));
    for (quint64 take : c.takes) {
        REQUIRE(c.dialog->rowOf(take)->waveform->selection());
        CHECK(c.dialog->rowOf(take)->waveform->selection()->startSeconds == range->startSeconds);
        CHECK(c.dialog->rowOf(take)->waveform->selection()->endSeconds == range->endSeconds);
    }
    REQUIRE(player->loopRange());
    CHECK(player->loopRange()->startSeconds == range->startSeconds);
    CHECK(player->loopRange()->endSeconds == range->endSeconds);

    // Loop on: play starts at the range (the playhead was at 0) and wraps at its end.
    c.dialog->controls()->loopBox()->setChecked(true);
    QSignalSpy positions(player, &AudioPlayer::positionChanged);
    player->play();
    CHECK(player->position() == Approx(range->startSeconds).margin(kSwitchSlackSeconds));
    const double length = range->length();
    QTest::qWait(static_cast<int>(1000 * length * 1.6));
    // Half-way through, take 3: the loop goes on over the same range.
    QTest::keyClick(c.dialog, Qt::Key_3);
    CHECK(c.playing() == c.clip(c.takes[2])->audio);
    REQUIRE(player->loopRange());
    CHECK(player->loopRange()->startSeconds == range->startSeconds);
    QTest::qWait(static_cast<int>(1000 * length * 1.2));
    CHECK(player->state() == AudioPlayer::State::Playing);

    int wraps = 0;
    double previous = -1.0;
    for (const QList<QVariant>& signal : std::as_const(positions)) {
        const double at = signal.at(0).toDouble();
        CHECK(at >= range->startSeconds - 1e-6);
        CHECK(at <= range->endSeconds + 1e-6);
        if (at < previous) ++wraps;
        previous = at;
    }
    CHECK(wraps >= 2);  // 2.8 loop lengths of playing

    // A plain click outside the range clears it everywhere, and the loop is the whole take again.
    WaveformView* third = c.dialog->rowOf(c.takes[2])->waveform;
    QTest::mouseClick(third, Qt::LeftButton, Qt::NoModifier, QPoint(third->width() * 7 / 8, third->height() / 2));
    CHECK_FALSE(c.dialog->loopRange());
    CHECK_FALSE(player->loopRange());
    for (quint64 take : c.takes) CHECK_FALSE(c.dialog->rowOf(take)->waveform->selection());
}
