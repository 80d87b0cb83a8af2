#pragma once
// Plays an AudioBuffer from memory through Qt Multimedia (QAudioSink pulling from our own
// QIODevice), so generated audio plays without a temporary file. With no audio output device the
// player says so once and keeps a silent clock, so the playhead, seeking and looping still work.
#include "audio/audio_buffer.h"
#include "clip.h"

#include <QAudioFormat>
#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <memory>
#include <optional>

class QAudioSink;

namespace grym::ui {

class PcmSource;

class AudioPlayer : public QObject {
    Q_OBJECT
public:
    enum class State { Stopped, Playing, Paused };

    explicit AudioPlayer(QObject* parent = nullptr);
    ~AudioPlayer() override;

    void setAudio(std::shared_ptr<const AudioBuffer> audio);  // stops playback, clears the loop range
    // Goes on with `audio` from the same position and in the same state (playing, paused or
    // stopped), keeping the loop range: A/B comparison of takes. The queued sound of the old
    // buffer is dropped, so the switch is heard at once.
    void switchAudio(std::shared_ptr<const AudioBuffer> audio);
    std::shared_ptr<const AudioBuffer> audio() const { return audio_; }

    void play();
    void pause();
    void stop();
    void togglePlayPause();
    void seek(double seconds);
    void seekBy(double deltaSeconds) { seek(position() + deltaSeconds); }

    double position() const;
    double duration() const { return audio_ ? audio_->duration() : 0.0; }
    State state() const { return state_; }
    bool hasOutputDevice() const { return hasDevice_; }

    void setVolume(double volume);  // 0..1
    double volume() const { return volume_; }
    void setLooping(bool looping);
    bool looping() const { return looping_; }
    // While looping, playback wraps from the range's end to its start (the whole clip without
    // a range); a play outside the range starts at its start.
    void setLoopRange(std::optional<TimeRange> range);
    std::optional<TimeRange> loopRange() const { return loopRange_; }

signals:
    void stateChanged(grym::ui::AudioPlayer::State state);
    void positionChanged(double seconds);
    void audioChanged(double durationSeconds);
    void outputUnavailable(const QString& message);

private:
    void setState(State state);
    void startSink();
    void releaseSink();
    // The device failed or vanished: keep going on the silent clock and say so once.
    void fallBackToClock(const QString& why);
    void tick();
    double loopStart() const;
    double loopEnd() const;
    void applyLoopToSource();

    std::shared_ptr<const AudioBuffer> audio_;
    std::unique_ptr<PcmSource> source_;
    QAudioSink* sink_ = nullptr;
    QAudioFormat format_;
    QTimer ticker_;
    State state_ = State::Stopped;
    double volume_ = 0.8;
    bool looping_ = false;
    std::optional<TimeRange> loopRange_;
    bool hasDevice_ = false;
    bool warnedNoDevice_ = false;
    // The silent clock: position = clockOrigin_ + elapsed while playing without a device.
    QElapsedTimer clock_;
    double clockOrigin_ = 0.0;
};

}  // namespace grym::ui
