#include "prompt_list_dialog.h"

#include <QDialogButtonBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace grym::ui {

namespace {

enum Column { PromptColumn, ProgressColumn, StateColumn };
constexpr qint64 kMaxPromptFileBytes = 1 << 20;  // a prompt list, not a book

}  // namespace

PromptListDialog::PromptListDialog(QWidget* parent) : QDialog(parent) {
    setObjectName(QStringLiteral("promptListDialog"));
    setWindowTitle(tr("Prompt List"));
    editor_ = new QPlainTextEdit(this);
    editor_->setObjectName(QStringLiteral("promptListEditor"));
    editor_->setPlaceholderText(tr("One prompt per line (lines starting with # are skipped)"));
    openFile_ = new QPushButton(tr("Open Text File…"), this);
    queue_ = new QPushButton(tr("Queue Batch"), this);
    queue_->setDefault(true);
    note_ = new QLabel(tr("Each prompt is generated with the Generate form's other settings (length, steps, "
                          "guidance, seed, takes)."),
                       this);
    note_->setWordWrap(true);
    table_ = new QTableWidget(0, 3, this);
    table_->setObjectName(QStringLiteral("promptListProgress"));
    table_->setHorizontalHeaderLabels({tr("Prompt"), tr("Progress"), tr("State")});
    table_->verticalHeader()->hide();
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->horizontalHeader()->setSectionResizeMode(PromptColumn, QHeaderView::Stretch);
    table_->horizontalHeader()->setSectionResizeMode(StateColumn, QHeaderView::ResizeToContents);
    auto* close = new QDialogButtonBox(QDialogButtonBox::Close, this);

    auto* buttons = new QHBoxLayout;
    buttons->addWidget(openFile_);
    buttons->addStretch(1);
    buttons->addWidget(queue_);
    buttons->addWidget(close);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(editor_, 2);
    layout->addWidget(note_);
    layout->addLayout(buttons);
    layout->addWidget(table_, 3);
    resize(640, 520);

    connect(close, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(editor_, &QPlainTextEdit::textChanged, this, &PromptListDialog::updateQueueButton);
    connect(queue_, &QPushButton::clicked, this, [this] {
        const QStringList list = prompts();
        if (!list.isEmpty()) emit queueRequested(list);
    });
    connect(openFile_, &QPushButton::clicked, this, [this] {
        QSettings settings;
        const QString path = QFileDialog::getOpenFileName(this, tr("Open a prompt list"),
                                                          settings.value(QStringLiteral("paths/lastPromptListDir")).toString(),
                                                          tr("Text files (*.txt);;All files (*)"));
        if (path.isEmpty()) return;
        settings.setValue(QStringLiteral("paths/lastPromptListDir"), QFileInfo(path).absolutePath());
        QString error;
        if (!loadFile(path, &error)) note_->setText(error);
    });
    updateQueueButton();
}

QStringList PromptListDialog::parsePrompts(const QString& text) {
    QStringList result;
    for (const QString& line : text.split(QLatin1Char('\n'))) {
        const QString prompt = line.trimmed();
        if (!prompt.isEmpty() && !prompt.startsWith(QLatin1Char('#'))) result << prompt;
    }
    return result;
}

QStringList PromptListDialog::prompts() const { return parsePrompts(editor_->toPlainText()); }

bool PromptListDialog::loadFile(const QString& path, QString* error) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        if (error) *error = tr("Cannot read %1: %2").arg(path, file.errorString());
        return false;
    }
    if (file.size() > kMaxPromptFileBytes) {
        if (error) *error = tr("%1 is %2 bytes; a prompt list may be at most %3").arg(path).arg(file.size()).arg(kMaxPromptFileBytes);
        return false;
    }
    editor_->setPlainText(QString::fromUtf8(file.readAll()));
    return true;
}

void PromptListDialog::startBatch(const QStringList& prompts) {
    table_->setRowCount(prompts.size());
    for (int row = 0; row < prompts.size(); ++row) {
        table_->setItem(row, PromptColumn, new QTableWidgetItem(prompts[row]));
        auto* bar = new QProgressBar(table_);
        bar->setRange(0, 1000);
        bar->setValue(0);
        bar->setTextVisible(false);
        table_->setCellWidget(row, ProgressColumn, bar);
        table_->setItem(row, StateColumn, new QTableWidgetItem(tr("queued")));
    }
}

void PromptListDialog::setPromptProgress(int row, double fraction, const QString& state) {
    if (row < 0 || row >= table_->rowCount()) return;
    if (auto* bar = qobject_cast<QProgressBar*>(table_->cellWidget(row, ProgressColumn)))
        bar->setValue(static_cast<int>(std::clamp(fraction, 0.0, 1.0) * 1000 + 0.5));
    table_->item(row, StateColumn)->setText(state);
}

double PromptListDialog::promptProgress(int row) const {
    auto* bar = row >= 0 && row < table_->rowCount() ? qobject_cast<QProgressBar*>(table_->cellWidget(row, ProgressColumn)) : nullptr;
    return bar ? bar->value() / 1000.0 : 0.0;
}

QString PromptListDialog::promptState(int row) const {
    return row >= 0 && row < table_->rowCount() ? table_->item(row, StateColumn)->text() : QString();
}

int PromptListDialog::batchSize() const { return table_->rowCount(); }

void PromptListDialog::updateQueueButton() {
    const int n = static_cast<int>(prompts().size());
    queue_->setEnabled(n > 0);
    queue_->setText(n > 0 ? tr("Queue %n Prompt(s)", nullptr, n) : tr("Queue Batch"));
}

}  // namespace grym::ui
