#include "drag_out_handle.h"

#include <QApplication>
#include <QMouseEvent>

namespace grym::ui {

DragOutHandle::DragOutHandle(QWidget* parent) : QLabel(parent) {
    setObjectName(QStringLiteral("dragOutHandle"));
    setText(tr("⠿ Drag out"));
    setToolTip(tr("Drag the clip, or the part selected in the waveform (Shift+drag there), into a file manager "
                  "or a DAW. The format is set in File ▸ Drag-out Format."));
    setCursor(Qt::OpenHandCursor);
    setFrameShape(QFrame::StyledPanel);
    setMargin(4);
    setEnabled(false);
}

void DragOutHandle::mousePressEvent(QMouseEvent* event) {
    pressed_ = event->button() == Qt::LeftButton;
    pressPosition_ = event->position().toPoint();
}

void DragOutHandle::mouseMoveEvent(QMouseEvent* event) {
    if (!pressed_ || !(event->buttons() & Qt::LeftButton)) return;
    if ((event->position().toPoint() - pressPosition_).manhattanLength() < QApplication::startDragDistance()) return;
    pressed_ = false;
    emit dragStarted();
}

}  // namespace grym::ui
