#include "audio_controls.h"

#include "clip.h"

#include <QAbstractSpinBox>
#include <QApplication>
#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMouseEvent>
#include <QStyleOptionSlider>
#include <QPlainTextEdit>
#include <QShortcut>
#include <QSlider>
#include <QStyle>
#include <QToolButton>

#include <cmath>

namespace grym::ui {

namespace {
constexpr int kSliderTicksPerSecond = 100;

// Space and the arrows belong to a text field while one has focus.
bool textFieldHasFocus() {
    QWidget* focus = QApplication::focusWidget();
    return qobject_cast<QLineEdit*>(focus) || qobject_cast<QPlainTextEdit*>(focus) || qobject_cast<QAbstractSpinBox*>(focus);
}
}  // namespace

AudioControls::AudioControls(AudioPlayer* player, QWidget* parent) : QWidget(parent), player_(player) {
    setObjectName(QStringLiteral("audioControls"));
    play_ = new QToolButton(this);
    play_->setObjectName(QStringLiteral("playButton"));
    play_->setAutoRaise(true);
    play_->setIconSize({22, 22});
    stop_ = new QToolButton(this);
    stop_->setObjectName(QStringLiteral("stopButton"));
    stop_->setAutoRaise(true);
    stop_->setIconSize({22, 22});
    stop_->setIcon(style()->standardIcon(QStyle::SP_MediaStop));
    stop_->setToolTip(tr("Stop (back to the start)"));
    position_ = new QSlider(Qt::Horizontal, this);
    position_->setObjectName(QStringLiteral("positionSlider"));
    position_->setToolTip(tr("Position: drag or click to seek (\u2190/\u2192 seek 5 s, Home/End)"));
    time_ = new QLabel(this);
    time_->setObjectName(QStringLiteral("timeLabel"));
    time_->setMinimumWidth(time_->fontMetrics().horizontalAdvance(QStringLiteral("00:00.0 / 00:00.0")) + 8);
    time_->setAlignment(Qt::AlignCenter);
    loop_ = new QCheckBox(tr("Loop"), this);
    loop_->setObjectName(QStringLiteral("loopBox"));
    auto* volumeIcon = new QLabel(this);
    volumeIcon->setPixmap(style()->standardIcon(QStyle::SP_MediaVolume).pixmap(18, 18));
    volume_ = new QSlider(Qt::Horizontal, this);
    volume_->setObjectName(QStringLiteral("volumeSlider"));
    volume_->setRange(0, 100);
    volume_->setValue(static_cast<int>(std::lround(player_->volume() * 100)));
    volume_->setMaximumWidth(110);
    volume_->setToolTip(tr("Volume"));

    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(6, 2, 6, 2);
    layout->addWidget(play_);
    layout->addWidget(stop_);
    layout->addWidget(position_, 1);
    layout->addWidget(time_);
    layout->addWidget(loop_);
    layout->addSpacing(8);
    layout->addWidget(volumeIcon);
    layout->addWidget(volume_);

    connect(play_, &QToolButton::clicked, player_, &AudioPlayer::togglePlayPause);
    connect(stop_, &QToolButton::clicked, player_, &AudioPlayer::stop);
    connect(loop_, &QCheckBox::toggled, player_, &AudioPlayer::setLooping);
    connect(volume_, &QSlider::valueChanged, this, [this](int value) { player_->setVolume(value / 100.0); });
    connect(position_, &QSlider::sliderPressed, this, [this] { dragging_ = true; });
    connect(position_, &QSlider::sliderReleased, this, [this] {
        dragging_ = false;
        player_->seek(position_->value() / static_cast<double>(kSliderTicksPerSecond));
    });
    // Clicks on the groove and keyboard steps arrive as value changes without a drag.
    connect(position_, &QSlider::actionTriggered, this, [this](int) {
        if (!dragging_) player_->seek(position_->sliderPosition() / static_cast<double>(kSliderTicksPerSecond));
    });
    connect(player_, &AudioPlayer::positionChanged, this, &AudioControls::showPosition);
    connect(player_, &AudioPlayer::stateChanged, this, &AudioControls::refreshState);
    connect(player_, &AudioPlayer::audioChanged, this, [this](double duration) {
        position_->setRange(0, static_cast<int>(std::lround(duration * kSliderTicksPerSecond)));
        position_->setPageStep(static_cast<int>(kSeekStepSeconds * kSliderTicksPerSecond));
        refreshState();
        showPosition(0.0);
    });
    position_->installEventFilter(this);
    position_->setRange(0, 0);
    refreshState();
    showPosition(0.0);
}

void AudioControls::installShortcuts(QWidget* window) {
    auto add = [this, window](const QKeySequence& key, auto action) {
        auto* shortcut = new QShortcut(key, window);
        shortcut->setContext(Qt::WindowShortcut);
        connect(shortcut, &QShortcut::activated, this, [action] {
            if (!textFieldHasFocus()) action();
        });
    };
    add(QKeySequence(Qt::Key_Space), [this] { player_->togglePlayPause(); });
    add(QKeySequence(Qt::Key_Left), [this] { player_->seekBy(-kSeekStepSeconds); });
    add(QKeySequence(Qt::Key_Right), [this] { player_->seekBy(kSeekStepSeconds); });
    add(QKeySequence(Qt::Key_Home), [this] { player_->seek(0.0); });
    add(QKeySequence(Qt::Key_End), [this] { player_->seek(player_->duration()); });
}

bool AudioControls::eventFilter(QObject* watched, QEvent* event) {
    if (watched != position_ || event->type() != QEvent::MouseButtonPress) return QWidget::eventFilter(watched, event);
    auto* press = static_cast<QMouseEvent*>(event);
    if (press->button() != Qt::LeftButton || position_->maximum() <= 0) return false;
    QStyleOptionSlider option;
    option.initFrom(position_);
    option.orientation = Qt::Horizontal;
    option.minimum = position_->minimum();
    option.maximum = position_->maximum();
    option.sliderPosition = position_->sliderPosition();
    const QRect handle = position_->style()->subControlRect(QStyle::CC_Slider, &option, QStyle::SC_SliderHandle, position_);
    if (handle.contains(press->position().toPoint())) return false;  // dragging the handle works as usual
    const int value = QStyle::sliderValueFromPosition(position_->minimum(), position_->maximum(),
                                                      press->position().toPoint().x() - handle.width() / 2,
                                                      position_->width() - handle.width());
    player_->seek(value / static_cast<double>(kSliderTicksPerSecond));
    return true;
}

void AudioControls::refreshState() {
    const bool playing = player_->state() == AudioPlayer::State::Playing;
    const bool hasAudio = player_->duration() > 0.0;
    play_->setIcon(style()->standardIcon(playing ? QStyle::SP_MediaPause : QStyle::SP_MediaPlay));
    play_->setToolTip(playing ? tr("Pause (Space)") : tr("Play (Space)"));
    play_->setEnabled(hasAudio);
    stop_->setEnabled(hasAudio);
    position_->setEnabled(hasAudio);
}

void AudioControls::showPosition(double seconds) {
    if (!dragging_) {
        const QSignalBlocker block(position_);
        position_->setValue(static_cast<int>(std::lround(seconds * kSliderTicksPerSecond)));
    }
    time_->setText(QStringLiteral("%1 / %2").arg(formatSeconds(seconds), formatSeconds(player_->duration())));
}

}  // namespace grym::ui
