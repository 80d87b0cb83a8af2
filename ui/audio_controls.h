#pragma once
// The transport bar: play/pause, stop, position slider, time / duration, loop and volume.
// Keyboard (whenever the window has focus): Space play/pause, Left/Right seek by 5 s, Home/End.
#include "audio_player.h"

#include <QWidget>

class QCheckBox;
class QLabel;
class QSlider;
class QToolButton;

namespace grym::ui {

class AudioControls : public QWidget {
    Q_OBJECT
public:
    static constexpr double kSeekStepSeconds = 5.0;

    explicit AudioControls(AudioPlayer* player, QWidget* parent = nullptr);

    // Installs the keyboard shortcuts on `window` (application-wide inside that window, unless
    // a text field has focus, where Space and the arrows keep their usual meaning).
    void installShortcuts(QWidget* window);

    QToolButton* playButton() const { return play_; }
    QToolButton* stopButton() const { return stop_; }
    QSlider* positionSlider() const { return position_; }
    QSlider* volumeSlider() const { return volume_; }
    QCheckBox* loopBox() const { return loop_; }
    QLabel* timeLabel() const { return time_; }

protected:
    // A click on the slider's groove jumps straight there (not a page step).
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void refreshState();
    void showPosition(double seconds);

    AudioPlayer* player_;
    QToolButton* play_;
    QToolButton* stop_;
    QSlider* position_;
    QLabel* time_;
    QCheckBox* loop_;
    QSlider* volume_;
    bool dragging_ = false;
};

}  // namespace grym::ui
