#pragma once
// Compare Takes: the takes of one group stacked, each with its seed, under one shared playhead.
// One take sounds at a time; switching (keys 1..9 or a take's button) goes on from the same
// position, so the takes are heard A/B; a click in a take's waveform switches to it there. A
// range selected with Shift+drag in any take is selected in all of them, and with Loop on,
// playback loops it whichever take plays. Keep and Discard are asked of the window
// (keepRequested, discardRequested), which owns the library; the rows follow the library.
#include "clip.h"

#include <QDialog>
#include <QVector>

#include <optional>

class QLabel;
class QToolButton;
class QVBoxLayout;
class QPushButton;

namespace grym::ui {

class AudioControls;
class AudioPlayer;
class ClipLibrary;
class WaveformView;

class TakesCompareDialog : public QDialog {
    Q_OBJECT
public:
    static constexpr int kMaxKeyedTakes = 9;  // keys 1..9

    TakesCompareDialog(const ClipLibrary* library, quint64 group, QWidget* parent = nullptr);
    ~TakesCompareDialog() override;

    quint64 group() const { return group_; }
    // The takes shown, in take order.
    QVector<quint64> takes() const;
    quint64 activeTake() const { return active_; }
    // Plays (or cues, when not playing) the take from the current position.
    void activateTake(quint64 clipId);
    // The loop range shown in every take and given to the player; none clears it.
    void setLoopRange(std::optional<TimeRange> range);
    std::optional<TimeRange> loopRange() const { return loopRange_; }

    AudioPlayer* player() const { return player_; }
    AudioControls* controls() const { return controls_; }
    QPushButton* moreLikeThisButton() const { return moreLikeThis_; }
    // A take's row: its button (number, take, seed; checked while it sounds), its waveform and
    // its Keep and Discard buttons.
    struct TakeRow {
        quint64 clipId = 0;
        QWidget* widget = nullptr;
        QToolButton* take = nullptr;
        WaveformView* waveform = nullptr;
        QToolButton* keep = nullptr;
        QToolButton* discard = nullptr;
    };
    // nullptr when the take is not shown.
    const TakeRow* rowOf(quint64 clipId) const;

signals:
    void keepRequested(quint64 clipId, bool kept);
    void discardRequested(quint64 clipId);
    void moreLikeThisRequested(quint64 clipId);

protected:
    void hideEvent(QHideEvent* event) override;

private:
    // Adds rows for new takes, drops those gone from the library, refreshes labels and Keep.
    void syncWithLibrary();
    TakeRow makeRow(const Clip& clip);
    void showActive();
    void activateTakeAt(int index);

    const ClipLibrary* library_;
    quint64 group_;
    AudioPlayer* player_;
    AudioControls* controls_;
    QLabel* title_;
    QLabel* empty_;
    QVBoxLayout* rowsLayout_;
    QPushButton* moreLikeThis_;
    QVector<TakeRow> rows_;  // in take order
    quint64 active_ = 0;
    std::optional<TimeRange> loopRange_;
    bool applyingRange_ = false;
};

}  // namespace grym::ui
