#pragma once
// Settings ▸ Local API…: a switch, the port and an optional token for the local HTTP API.
#include "local_api_server.h"

#include <QDialog>

class QCheckBox;
class QLineEdit;
class QSpinBox;

namespace grym::ui {

class LocalApiDialog : public QDialog {
    Q_OBJECT
public:
    explicit LocalApiDialog(const LocalApiSettings& current, QWidget* parent = nullptr);

    LocalApiSettings settings() const;
    QCheckBox* enabledBox() const { return enabled_; }
    QSpinBox* portBox() const { return port_; }
    QLineEdit* tokenEdit() const { return token_; }

private:
    QCheckBox* enabled_;
    QSpinBox* port_;
    QLineEdit* token_;
};

}  // namespace grym::ui
