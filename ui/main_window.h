#pragma once
#include <QMainWindow>

namespace grym::ui {

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
};

}  // namespace grym::ui
