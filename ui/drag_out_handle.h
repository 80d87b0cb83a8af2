#pragma once
// A grip beside the clip's title: dragging it takes the clip (or the waveform's selection)
// out of the app as a file (drag-out, clip_drag.h). It only says a drag began; the receiver
// writes the file and runs the drag.
#include <QLabel>
#include <QPoint>

namespace grym::ui {

class DragOutHandle : public QLabel {
    Q_OBJECT
public:
    explicit DragOutHandle(QWidget* parent = nullptr);

signals:
    void dragStarted();

protected:
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;

private:
    QPoint pressPosition_;
    bool pressed_ = false;
};

}  // namespace grym::ui
