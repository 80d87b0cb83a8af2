#include "history_dialog.h"

#include <QDialogButtonBox>
#include <QDir>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

namespace grym::ui {

namespace {

enum Column { When, Prompt, Seed, Steps, Model, ColumnCount };

QString text(const nlohmann::json& settings, const char* key) {
    const auto it = settings.find(key);
    if (it == settings.end() || it->is_null()) return {};
    return it->is_string() ? QString::fromStdString(it->get<std::string>()) : QString::fromStdString(it->dump());
}

}  // namespace

HistoryDialog::HistoryDialog(const GenerationHistory& history, QWidget* parent) : QDialog(parent), history_(history) {
    setObjectName(QStringLiteral("historyDialog"));
    setWindowTitle(tr("History"));
    search_ = new QLineEdit(this);
    search_->setObjectName(QStringLiteral("historySearch"));
    search_->setPlaceholderText(tr("Search prompts…"));
    search_->setClearButtonEnabled(true);
    count_ = new QLabel(this);
    table_ = new QTableWidget(0, ColumnCount, this);
    table_->setObjectName(QStringLiteral("historyTable"));
    table_->setHorizontalHeaderLabels({tr("When"), tr("Prompt"), tr("Seed"), tr("Steps"), tr("Model")});
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->verticalHeader()->hide();
    table_->horizontalHeader()->setSectionResizeMode(Prompt, QHeaderView::Stretch);
    for (int c : {When, Seed, Steps, Model}) table_->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    open_ = new QPushButton(tr("Open in Library"), this);
    useSettings_ = new QPushButton(tr("Use These Settings"), this);
    runAgain_ = new QPushButton(tr("Run Again"), this);
    auto* close = new QDialogButtonBox(QDialogButtonBox::Close, this);

    auto* top = new QHBoxLayout;
    top->addWidget(search_, 1);
    top->addWidget(count_);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(open_);
    buttons->addWidget(useSettings_);
    buttons->addWidget(runAgain_);
    buttons->addStretch(1);
    buttons->addWidget(close);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(table_, 1);
    auto* folder = new QLabel(tr("Folder: %1").arg(QDir::toNativeSeparators(history_.folder())), this);
    folder->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(folder);
    layout->addLayout(buttons);
    resize(760, 460);

    connect(search_, &QLineEdit::textChanged, this, &HistoryDialog::showMatching);
    connect(close, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(table_, &QTableWidget::itemSelectionChanged, this, &HistoryDialog::updateButtons);
    connect(table_, &QTableWidget::cellDoubleClicked, this, [this] {
        if (const HistoryEntry* e = selected()) emit openRequested(*e);
    });
    connect(open_, &QPushButton::clicked, this, [this] {
        if (const HistoryEntry* e = selected()) emit openRequested(*e);
    });
    connect(useSettings_, &QPushButton::clicked, this, [this] {
        if (const HistoryEntry* e = selected()) emit useSettingsRequested(*e);
    });
    connect(runAgain_, &QPushButton::clicked, this, [this] {
        if (const HistoryEntry* e = selected()) emit runAgainRequested(*e);
    });
    refresh();
}

void HistoryDialog::refresh() {
    all_ = history_.entries();
    showMatching();
}

void HistoryDialog::setSearch(const QString& text) { search_->setText(text); }

void HistoryDialog::showMatching() {
    shown_ = GenerationHistory::matching(all_, search_->text());
    table_->setRowCount(shown_.size());
    for (int row = 0; row < shown_.size(); ++row) {
        const HistoryEntry& e = shown_[row];
        const QStringList cells = {e.created.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")), e.prompt(),
                                   text(e.settings, "seed"), text(e.settings, "steps"), text(e.settings, "model_id")};
        for (int c = 0; c < ColumnCount; ++c) {
            auto* item = new QTableWidgetItem(cells[c]);
            item->setToolTip(c == Prompt ? QDir::toNativeSeparators(e.audioPath) : cells[c]);
            table_->setItem(row, c, item);
        }
    }
    count_->setText(search_->text().trimmed().isEmpty() ? tr("%n generation(s)", nullptr, static_cast<int>(all_.size()))
                                                        : tr("%1 of %2").arg(shown_.size()).arg(all_.size()));
    if (!shown_.isEmpty()) selectRow(0);
    updateButtons();
}

void HistoryDialog::selectRow(int row) {
    if (row >= 0 && row < table_->rowCount()) table_->selectRow(row);
}

const HistoryEntry* HistoryDialog::selected() const {
    const auto rows = table_->selectionModel()->selectedRows();
    if (rows.isEmpty()) return nullptr;
    const int row = rows.front().row();
    return row < shown_.size() ? &shown_[row] : nullptr;
}

void HistoryDialog::updateButtons() {
    const bool any = selected() != nullptr;
    for (QPushButton* b : {open_, useSettings_, runAgain_}) b->setEnabled(any);
}

}  // namespace grym::ui
