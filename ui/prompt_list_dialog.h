#pragma once
// A prompt list: lines pasted or read from a text file, queued as one batch with the Generate
// form's other settings. Each prompt's row shows its progress and state while the batch runs.
#include <QDialog>
#include <QStringList>

class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QTableWidget;

namespace grym::ui {

class PromptListDialog : public QDialog {
    Q_OBJECT
public:
    explicit PromptListDialog(QWidget* parent = nullptr);

    // The non-empty lines, trimmed; lines starting with '#' are comments.
    QStringList prompts() const;
    static QStringList parsePrompts(const QString& text);
    // Reads a UTF-8 text file into the editor; false (with the reason in `error`) when it cannot.
    bool loadFile(const QString& path, QString* error = nullptr);

    // The batch that was queued: one row per prompt.
    void startBatch(const QStringList& prompts);
    void setPromptProgress(int row, double fraction, const QString& state);
    double promptProgress(int row) const;
    QString promptState(int row) const;
    int batchSize() const;

    QPlainTextEdit* editor() const { return editor_; }
    QPushButton* openFileButton() const { return openFile_; }
    QPushButton* queueButton() const { return queue_; }
    QTableWidget* progressTable() const { return table_; }

signals:
    void queueRequested(const QStringList& prompts);

private:
    void updateQueueButton();

    QPlainTextEdit* editor_;
    QPushButton* openFile_;
    QPushButton* queue_;
    QLabel* note_;
    QTableWidget* table_;
};

}  // namespace grym::ui
