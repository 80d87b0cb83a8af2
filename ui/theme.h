#pragma once
// The application's look: Fusion style with a dark palette and a few style-sheet touches.
class QApplication;

namespace grym::ui {

void applyTheme(QApplication& app);

}  // namespace grym::ui
