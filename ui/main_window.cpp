#include "main_window.h"

#include <QLabel>

namespace grym::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setWindowTitle(QStringLiteral("grym-synth"));
    auto* label = new QLabel(tr("grym-synth"), this);
    label->setAlignment(Qt::AlignCenter);
    setCentralWidget(label);
    resize(1200, 800);
}

}  // namespace grym::ui
