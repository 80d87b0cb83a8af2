#pragma once
// History: every generation ever made (the history folder), newest first, searchable by prompt.
// Each can be opened into the library, its settings put into the Generate form, or run again.
#include "generation_history.h"

#include <QDialog>

class QLineEdit;
class QPushButton;
class QTableWidget;
class QLabel;

namespace grym::ui {

class HistoryDialog : public QDialog {
    Q_OBJECT
public:
    HistoryDialog(const GenerationHistory& history, QWidget* parent = nullptr);

    // Re-reads the folder (and keeps the search).
    void refresh();
    void setSearch(const QString& text);
    // What the table shows now (after the search), in order.
    const QVector<HistoryEntry>& shown() const { return shown_; }
    void selectRow(int row);

    QLineEdit* searchEdit() const { return search_; }
    QTableWidget* table() const { return table_; }
    QPushButton* openButton() const { return open_; }
    QPushButton* useSettingsButton() const { return useSettings_; }
    QPushButton* runAgainButton() const { return runAgain_; }

signals:
    void openRequested(const grym::ui::HistoryEntry& entry);
    void useSettingsRequested(const grym::ui::HistoryEntry& entry);
    void runAgainRequested(const grym::ui::HistoryEntry& entry);

private:
    void showMatching();
    const HistoryEntry* selected() const;
    void updateButtons();

    const GenerationHistory& history_;
    QVector<HistoryEntry> all_;
    QVector<HistoryEntry> shown_;
    QLineEdit* search_;
    QTableWidget* table_;
    QLabel* count_;
    QPushButton* open_;
    QPushButton* useSettings_;
    QPushButton* runAgain_;
};

}  // namespace grym::ui

Q_DECLARE_METATYPE(grym::ui::HistoryEntry)
