#include "audio_player.h"

#include <QAudioDevice>
#include <QAudioSink>
#include <QIODevice>
#include <QMediaDevices>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

namespace grym::ui {

// Streams the buffer in the sink's format: linear-interpolated to the device rate when it
// differs, channels mapped (mono is copied to every output channel, extra channels folded),
// converted to the device's sample type. The read cursor is atomic because the sink may pull
// from another thread.
class PcmSource : public QIODevice {
public:
    PcmSource(std::shared_ptr<const AudioBuffer> audio, const QAudioFormat& format)
        : audio_(std::move(audio)), format_(format),
          step_(static_cast<double>(audio_->sampleRate) / format.sampleRate()) {}

    void setLooping(bool looping) { looping_.store(looping); }
    // While looping, the cursor wraps from `end` back to `start` (frames, clamped to the buffer).
    void setLoopFrames(double start, double end) {
        const auto total = static_cast<double>(audio_->frames());
        loopEnd_.store(std::clamp(end, 0.0, total));
        loopStart_.store(std::clamp(start, 0.0, loopEnd_.load()));
    }
    void seekFrame(double frame) {
        cursor_.store(std::clamp(frame, 0.0, static_cast<double>(audio_->frames())));
        wrapped_.store(false);
    }
    // Whether the cursor went back to the loop's start since the last seek.
    bool wrapped() const { return wrapped_.load(); }
    double frame() const { return cursor_.load(); }
    bool finished() const { return cursor_.load() >= audio_->frames(); }
    bool isSequential() const override { return true; }
    qint64 bytesAvailable() const override { return finished() && !looping_ ? 0 : 1 << 16; }

protected:
    qint64 writeData(const char*, qint64) override { return -1; }

    qint64 readData(char* data, qint64 maxBytes) override {
        const int outChannels = format_.channelCount();
        const int bytesPerSample = format_.bytesPerSample();
        const qint64 frameBytes = static_cast<qint64>(outChannels) * bytesPerSample;
        const qint64 maxFrames = maxBytes / frameBytes;
        const int64_t total = audio_->frames();
        double cursor = cursor_.load();
        qint64 written = 0;
        const bool looping = looping_.load();
        const double loopStart = loopStart_.load();
        const double loopEnd = loopEnd_.load();
        while (written < maxFrames) {
            if (looping && loopEnd > loopStart && cursor >= loopEnd) {
                cursor = loopStart;
                wrapped_.store(true);
            }
            if (cursor >= total) {
                if (!looping || total == 0) break;
                cursor = loopStart;
                wrapped_.store(true);
            }
            const int64_t i0 = static_cast<int64_t>(cursor);
            const int64_t i1 = std::min<int64_t>(i0 + 1, total - 1);
            const float t = static_cast<float>(cursor - static_cast<double>(i0));
            for (int c = 0; c < outChannels; ++c) {
                const float value = channelValue(i0, c) * (1.0f - t) + channelValue(i1, c) * t;
                writeSample(data + written * frameBytes + c * bytesPerSample, std::clamp(value, -1.0f, 1.0f));
            }
            cursor += step_;
            ++written;
        }
        cursor_.store(cursor);
        return written * frameBytes;
    }

private:
    float channelValue(int64_t frame, int outChannel) const {
        const int inChannels = audio_->channels;
        if (format_.channelCount() == 1 && inChannels > 1) {
            float sum = 0.0f;
            for (int c = 0; c < inChannels; ++c) sum += audio_->sample(frame, c);
            return sum / static_cast<float>(inChannels);
        }
        return audio_->sample(frame, std::min(outChannel, inChannels - 1));
    }

    void writeSample(char* out, float value) const {
        switch (format_.sampleFormat()) {
            case QAudioFormat::UInt8: {
                const auto v = static_cast<quint8>(std::lround((value + 1.0f) * 127.5f));
                std::memcpy(out, &v, 1);
                break;
            }
            case QAudioFormat::Int16: {
                const auto v = static_cast<qint16>(std::lround(value * 32767.0f));
                std::memcpy(out, &v, 2);
                break;
            }
            case QAudioFormat::Int32: {
                const auto v = static_cast<qint32>(std::llround(static_cast<double>(value) * 2147483647.0));
                std::memcpy(out, &v, 4);
                break;
            }
            default: std::memcpy(out, &value, 4); break;
        }
    }

    std::shared_ptr<const AudioBuffer> audio_;
    QAudioFormat format_;
    double step_;
    std::atomic<double> cursor_{0.0};
    std::atomic<bool> looping_{false};
    std::atomic<double> loopStart_{0.0};
    std::atomic<double> loopEnd_{0.0};
    std::atomic<bool> wrapped_{false};
};

AudioPlayer::AudioPlayer(QObject* parent) : QObject(parent) {
    hasDevice_ = !QMediaDevices::defaultAudioOutput().isNull();
    ticker_.setInterval(30);
    connect(&ticker_, &QTimer::timeout, this, &AudioPlayer::tick);
}

AudioPlayer::~AudioPlayer() { releaseSink(); }

void AudioPlayer::setAudio(std::shared_ptr<const AudioBuffer> audio) {
    stop();
    releaseSink();
    audio_ = audio && !audio->empty() ? std::move(audio) : nullptr;
    source_.reset();
    loopRange_.reset();
    clockOrigin_ = 0.0;
    emit audioChanged(duration());
    emit positionChanged(0.0);
}

void AudioPlayer::switchAudio(std::shared_ptr<const AudioBuffer> audio) {
    if (!audio_ || !audio || audio->empty()) return setAudio(std::move(audio));
    const double at = position();
    // The old sink still holds sound of the old buffer: a new one starts empty, at `at`.
    releaseSink();
    source_.reset();
    audio_ = std::move(audio);
    clockOrigin_ = std::min(at, duration());
    clock_.restart();
    emit audioChanged(duration());
    if (state_ == State::Playing) startSink();
    emit positionChanged(clockOrigin_);
}

void AudioPlayer::releaseSink() {
    if (sink_) {
        sink_->stop();
        delete sink_;
        sink_ = nullptr;
    }
    if (source_) source_->close();
}

void AudioPlayer::startSink() {
    const QAudioDevice device = QMediaDevices::defaultAudioOutput();
    hasDevice_ = !device.isNull();
    if (!hasDevice_) {
        fallBackToClock(tr("No audio output device was found"));
        return;
    }
    QAudioFormat wanted;
    wanted.setSampleRate(audio_->sampleRate);
    wanted.setChannelCount(std::min(audio_->channels, 2));
    wanted.setSampleFormat(QAudioFormat::Float);
    format_ = device.isFormatSupported(wanted) ? wanted : device.preferredFormat();
    const double resumeAt = position();
    source_ = std::make_unique<PcmSource>(audio_, format_);
    source_->setLooping(looping_);
    applyLoopToSource();
    source_->seekFrame(resumeAt * audio_->sampleRate);
    source_->open(QIODevice::ReadOnly);
    sink_ = new QAudioSink(device, format_, this);
    sink_->setVolume(volume_);
    connect(sink_, &QAudioSink::stateChanged, this, [this](QAudio::State s) {
        if (s == QAudio::IdleState && source_ && source_->finished() && !looping_) stop();
        else if (s == QAudio::StoppedState && sink_ && sink_->error() != QAudio::NoError && sink_->error() != QAudio::UnderrunError)
            QTimer::singleShot(0, this, [this] { fallBackToClock(tr("The audio output failed")); });
    });
    sink_->start(source_.get());
    if (sink_->error() != QAudio::NoError && sink_->error() != QAudio::UnderrunError)
        fallBackToClock(tr("The audio output could not be opened"));
}

void AudioPlayer::fallBackToClock(const QString& why) {
    if (sink_) {
        clockOrigin_ = position();
        clock_.restart();
        releaseSink();
    }
    hasDevice_ = false;
    if (!warnedNoDevice_) {
        warnedNoDevice_ = true;
        emit outputUnavailable(tr("%1: playback is silent, everything else works.").arg(why));
    }
}

void AudioPlayer::play() {
    if (!audio_ || state_ == State::Playing) return;
    if (looping_ && loopRange_ && (position() < loopStart() || position() >= loopEnd())) seek(loopStart());
    else if (position() >= duration() - 1e-3) seek(0.0);
    if (state_ == State::Paused && sink_) {
        sink_->resume();
    } else {
        startSink();
    }
    clock_.restart();
    setState(State::Playing);
    ticker_.start();
}

void AudioPlayer::pause() {
    if (state_ != State::Playing) return;
    clockOrigin_ = position();
    if (sink_) sink_->suspend();
    ticker_.stop();
    setState(State::Paused);
    emit positionChanged(clockOrigin_);
}

void AudioPlayer::stop() {
    if (state_ == State::Stopped) return;
    releaseSink();
    ticker_.stop();
    clockOrigin_ = 0.0;
    setState(State::Stopped);
    emit positionChanged(0.0);
}

void AudioPlayer::togglePlayPause() {
    if (state_ == State::Playing) pause();
    else play();
}

void AudioPlayer::seek(double seconds) {
    if (!audio_) return;
    seconds = std::clamp(seconds, 0.0, duration());
    clockOrigin_ = seconds;
    clock_.restart();
    if (source_) source_->seekFrame(seconds * audio_->sampleRate);
    emit positionChanged(seconds);
}

double AudioPlayer::position() const {
    if (!audio_) return 0.0;
    if (sink_ && source_) {
        // What the device has not played yet is still in its buffer: subtract it.
        const qint64 queuedBytes = sink_->bufferSize() - sink_->bytesFree();
        const double queuedSeconds = format_.bytesPerFrame() > 0
            ? static_cast<double>(std::max<qint64>(queuedBytes, 0)) / format_.bytesPerFrame() / format_.sampleRate() : 0.0;
        double seconds = source_->frame() / audio_->sampleRate - queuedSeconds;
        // The queue holds the loop's end while the source is back at its start.
        if (looping_ && source_->wrapped() && seconds < loopStart()) seconds += loopEnd() - loopStart();
        return std::clamp(seconds, 0.0, duration());
    }
    if (state_ != State::Playing) return clockOrigin_;
    const double start = loopStart(), end = loopEnd();
    const bool wraps = looping_ && end > start;
    // As the device does: a loop played from past its end goes back to its start at once.
    const double origin = wraps && clockOrigin_ >= end ? start : clockOrigin_;
    double seconds = origin + clock_.elapsed() / 1000.0;
    if (wraps && seconds >= end) seconds = start + std::fmod(seconds - end, end - start);
    return std::min(seconds, duration());
}

double AudioPlayer::loopStart() const { return loopRange_ ? std::clamp(loopRange_->startSeconds, 0.0, duration()) : 0.0; }

double AudioPlayer::loopEnd() const { return loopRange_ ? std::clamp(loopRange_->endSeconds, 0.0, duration()) : duration(); }

void AudioPlayer::applyLoopToSource() {
    if (source_) source_->setLoopFrames(loopStart() * audio_->sampleRate, loopEnd() * audio_->sampleRate);
}

void AudioPlayer::setLoopRange(std::optional<TimeRange> range) {
    if (range && range->endSeconds <= range->startSeconds) range.reset();
    if (state_ == State::Playing && !sink_) {
        clockOrigin_ = position();
        clock_.restart();
    }
    loopRange_ = range;
    applyLoopToSource();
}

void AudioPlayer::tick() {
    const double seconds = position();
    emit positionChanged(seconds);
    if (!sink_ && !looping_ && seconds >= duration()) stop();
}

void AudioPlayer::setVolume(double volume) {
    volume_ = std::clamp(volume, 0.0, 1.0);
    if (sink_) sink_->setVolume(volume_);
}

void AudioPlayer::setLooping(bool looping) {
    if (state_ == State::Playing && !sink_) {
        clockOrigin_ = position();
        clock_.restart();
    }
    looping_ = looping;
    if (source_) source_->setLooping(looping);
}

void AudioPlayer::setState(State state) {
    if (state_ == state) return;
    state_ = state;
    emit stateChanged(state);
}

}  // namespace grym::ui
