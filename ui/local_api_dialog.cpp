#include "local_api_dialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>
#include <QVBoxLayout>

namespace grym::ui {

LocalApiDialog::LocalApiDialog(const LocalApiSettings& current, QWidget* parent) : QDialog(parent) {
    setWindowTitle(tr("Local API"));
    enabled_ = new QCheckBox(tr("Serve the local HTTP API"), this);
    enabled_->setObjectName(QStringLiteral("localApiEnabled"));
    enabled_->setChecked(current.enabled);
    port_ = new QSpinBox(this);
    port_->setObjectName(QStringLiteral("localApiPort"));
    port_->setRange(0, 65535);
    port_->setSpecialValueText(tr("any free port"));
    port_->setValue(current.port);
    token_ = new QLineEdit(current.token, this);
    token_->setObjectName(QStringLiteral("localApiToken"));
    token_->setEchoMode(QLineEdit::PasswordEchoOnEdit);
    token_->setPlaceholderText(tr("optional"));

    auto* explanation = new QLabel(
        tr("Scripts and other programs on this computer can generate and analyse audio through the app "
           "(see /v1/openapi.json). The server listens on 127.0.0.1 only. With a token, clients must send "
           "\"Authorization: Bearer TOKEN\"."),
        this);
    explanation->setWordWrap(true);

    auto* form = new QFormLayout;
    form->addRow(enabled_);
    form->addRow(tr("&Port"), port_);
    form->addRow(tr("&Token"), token_);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(explanation);
    layout->addLayout(form);
    layout->addWidget(buttons);
}

LocalApiSettings LocalApiDialog::settings() const {
    LocalApiSettings s;
    s.enabled = enabled_->isChecked();
    s.port = port_->value();
    s.token = token_->text().trimmed();
    return s;
}

}  // namespace grym::ui
