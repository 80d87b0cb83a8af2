#pragma once
// The waveform of a clip (min/max envelope per pixel column) with the playhead; a click or
// drag asks the player to seek there, a Shift+drag selects a time range (to regenerate it).
#include "audio/audio_buffer.h"

#include <QVector>
#include <QWidget>

#include <memory>
#include <optional>
#include <utility>

namespace grym::ui {

class WaveformView : public QWidget {
    Q_OBJECT
public:
    explicit WaveformView(QWidget* parent = nullptr);

    void setAudio(std::shared_ptr<const AudioBuffer> audio);
    void setPlayhead(double seconds);
    double playhead() const { return playhead_; }
    double duration() const { return audio_ ? audio_->duration() : 0.0; }
    void setPlaceholderText(const QString& text);
    // The selected range in seconds (start < end), if any; a new clip clears it.
    std::optional<std::pair<double, double>> selection() const { return selection_; }
    void setSelection(double startSeconds, double endSeconds);
    void clearSelection();
    QSize sizeHint() const override { return {600, 140}; }
    QSize minimumSizeHint() const override { return {200, 80}; }

signals:
    void seekRequested(double seconds);
    void selectionChanged(double startSeconds, double endSeconds);  // end <= start: cleared

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;

private:
    double secondsAt(int x) const;
    void computeEnvelope();

    std::shared_ptr<const AudioBuffer> audio_;
    QVector<float> minima_, maxima_;  // per bucket, mono mix
    double playhead_ = 0.0;
    std::optional<std::pair<double, double>> selection_;
    std::optional<double> selectionAnchor_;  // where a Shift+drag started
    QString placeholder_;
};

}  // namespace grym::ui
