#pragma once
// The waveform of a clip (min/max envelope per pixel column) with the playhead; a click or
// drag asks the player to seek there. Shift+drag selects a time range; dragging from inside
// the selection drags that part out of the app (drag-out, clip_drag.h).
#include "audio/audio_buffer.h"
#include "clip.h"

#include <QVector>
#include <QWidget>

#include <memory>
#include <optional>

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
    // The selected range, clamped to the clip; none when nothing (or nothing longer than a
    // frame) is selected. A new clip clears it.
    std::optional<TimeRange> selection() const { return selection_; }
    void setSelection(std::optional<TimeRange> range);
    QSize sizeHint() const override { return {600, 140}; }
    QSize minimumSizeHint() const override { return {200, 80}; }

signals:
    void seekRequested(double seconds);
    void selectionChanged();
    // A drag left the selection: the receiver starts a drag-out of selection().
    void dragOutRequested();

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;

private:
    enum class Gesture { None, Seek, Select, DragFromSelection };
    double secondsAt(int x) const;
    int xAt(double seconds) const;
    void computeEnvelope();

    std::shared_ptr<const AudioBuffer> audio_;
    QVector<float> minima_, maxima_;  // per bucket, mono mix
    double playhead_ = 0.0;
    QString placeholder_;
    std::optional<TimeRange> selection_;
    Gesture gesture_ = Gesture::None;
    double anchorSeconds_ = 0.0;
    QPoint pressPosition_;
};

}  // namespace grym::ui
