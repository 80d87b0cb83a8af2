#pragma once
// The main window: clip library (left), generation panel (left), results (centre) with the
// transport bar, live resource graphs (right); menus, toolbar and status bar. Files and folders
// dropped anywhere on the window are loaded. Layout, recent files and settings are remembered.
#include "audio/clip_export.h"
#include "clip_library.h"
#include "core_adapter.h"
#include "generation_history.h"
#include "local_api_server.h"
#include "model_downloader.h"

#include <QHash>
#include <QMainWindow>
#include <QPointer>
#include <QSet>
#include <QStringList>
#include <QThreadPool>
#include <QTimer>

class QAction;
class QDockWidget;
class QLabel;
class QMenu;
class QTableView;

namespace grym::ui {

class AudioControls;
class AudioPlayer;
class ClipDragExporter;
class ExportDialog;
class GenerationForm;
class HistoryDialog;
class PromptListDialog;
class ModelManagerDialog;
class ResourceGraphs;
class ResultsDisplay;
class TakesCompareDialog;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    static constexpr int kMaxRecentFiles = 10;

    // The adapter is owned by the caller (the app or a test) and outlives the window.
    explicit MainWindow(CoreAdapter* adapter, QWidget* parent = nullptr);
    ~MainWindow() override;

    // Loads files and folders (File ▸ Open, drops, the command line, recent files).
    void openPaths(const QStringList& paths);
    void saveClipTo(quint64 clipId, const QString& path);
    // File ▸ Export Clip…: opens the dialog (non-modal) for the current clip, its trim set to
    // the waveform's selection; Export writes through exportClipTo. nullptr without a clip.
    ExportDialog* openExportDialog();
    void exportClipTo(quint64 clipId, const QString& path, const ExportOptions& options);
    // Drag-out of the current clip, or of the waveform's selection when there is one.
    void dragOutCurrent();
    ClipDragExporter* dragExporter() const { return dragExporter_; }
    void setDragOutFormat(ExportFormat format);
    void selectClip(quint64 clipId);
    void analyseClip(quint64 clipId);
    void startVariation(quint64 clipId);
    void cancelGeneration();
    quint64 currentClipId() const;

    // History: every finished generation is written to the history folder at once (default
    // historyDirectory()); restoreHistory() puts the newest kHistoryInLibrary of them back in
    // the library (the app calls it at start). Changing the folder closes the History view.
    static constexpr int kHistoryInLibrary = 100;
    void setHistoryFolder(const QString& folder);
    const GenerationHistory& history() const { return *history_; }
    void restoreHistory();
    HistoryDialog* showHistory();
    // Generate ▸ Use These Settings: the clip's recorded settings into the Generate form.
    void useClipSettings(quint64 clipId);
    // Takes: keep or discard one; "more like this" makes new takes varying the selected one.
    void setTakeKept(quint64 clipId, bool kept);
    void discardTake(quint64 clipId);
    void moreLikeThis(quint64 clipId);
    // Generate ▸ Compare Takes…: the takes of the clip's group side by side (one dialog at a
    // time; it pauses the window's player). nullptr when the clip is not a take.
    TakesCompareDialog* compareTakes(quint64 clipId);
    TakesCompareDialog* takesComparison() const;
    // Generate ▸ Prompt List: one batch with the form's other settings, progress per prompt.
    PromptListDialog* showPromptList();
    void queuePrompts(const QStringList& prompts);

    ClipLibrary* library() const { return library_; }
    QTableView* libraryView() const { return libraryView_; }
    GenerationForm* generationForm() const { return form_; }
    ResultsDisplay* results() const { return results_; }
    AudioPlayer* player() const { return player_; }
    AudioControls* audioControls() const { return controls_; }
    ResourceGraphs* resourceGraphs() const { return graphs_; }
    QStringList recentFiles() const;
    // Refusals reported since the window opened ("path: reason").
    const QStringList& refusals() const { return refusals_; }
    int activeGenerations() const { return generationTasks_.size(); }
    ModelManagerDialog* showModelManager();
    // Where the Model Manager finds the Hub and its cache (default: the process environment);
    // set before the Model Manager is first shown.
    void setHubEnvironmentSource(ModelDownloader::EnvironmentSource source) { hubEnvironment_ = std::move(source); }
    // Tools ▸ Serve Local API (checkable) and Tools ▸ Local API Settings…
    LocalApiServer* localApi() const { return localApi_; }
    QAction* localApiToggle() const { return localApiToggle_; }
    QLabel* localApiLabel() const { return apiLabel_; }
    // Starts, restarts or stops the local API server and remembers the choice.
    void setLocalApiSettings(const LocalApiSettings& settings);
    void showLocalApiSettings();

signals:
    // Emitted when the user changes the models folder (the app re-creates its services).
    void modelsFolderChanged(const QString& folder);
    // The Model Manager chose `repoId` (in the Hugging Face cache) for `service` (the app re-creates its services).
    void modelRegistered(const QString& service, const QString& repoId);

protected:
    void closeEvent(QCloseEvent* event) override;
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void buildActions();
    void buildMenus();
    void buildDocks();
    void restoreLayout();
    void saveLayout() const;
    void addRecentFile(const QString& path);
    void rebuildRecentMenu();
    void onClipLoaded(const QString& path, std::shared_ptr<const AudioBuffer> audio);
    void onFileRefused(const QString& path, const QString& reason);
    void showRefusals();
    void onGenerateRequested(const GenerationRequest& request, int variations);
    // Queues `takes` generations of one request (seeds seed, seed+1, ...) as a take group;
    // batchRow >= 0 ties them to a row of the current prompt-list batch.
    void submitTakes(const GenerationRequest& request, int takes, int batchRow = -1);
    // Writes a finished generation to the history folder on historyWriter_; the clip learns its
    // history path (or the status bar why there is none) when the write is done.
    void recordInHistory(quint64 clipId, std::shared_ptr<const AudioBuffer> audio, const nlohmann::json& settings);
    void onHistoryRecorded(quint64 clipId, const QString& audioPath, const QString& error);
    void updateBatchRow(int batch, int row);
    void onTaskProgress(quint64 taskId, const TaskProgress& progress);
    void onTaskFinished(const TaskOutcome& outcome);
    void showCurrentClip();
    void updateActions();
    void updateTaskStatus();
    void promptSaveCurrent();
    void openFilesDialog();
    void showLocalApiState();
    void updateModelOffer();

    CoreAdapter* adapter_;
    ClipLibrary* library_;
    QTableView* libraryView_ = nullptr;
    GenerationForm* form_ = nullptr;
    ResultsDisplay* results_ = nullptr;
    AudioPlayer* player_ = nullptr;
    AudioControls* controls_ = nullptr;
    ResourceGraphs* graphs_ = nullptr;
    ModelManagerDialog* modelManager_ = nullptr;
    ClipDragExporter* dragExporter_ = nullptr;
    QMenu* dragFormatMenu_ = nullptr;
    QAction* exportAction_ = nullptr;
    ModelDownloader::EnvironmentSource hubEnvironment_;
    QDockWidget* libraryDock_ = nullptr;
    QDockWidget* generateDock_ = nullptr;
    QDockWidget* resourcesDock_ = nullptr;
    QMenu* recentMenu_ = nullptr;
    QLabel* taskLabel_ = nullptr;
    QLabel* deviceLabel_ = nullptr;
    QLabel* apiLabel_ = nullptr;
    LocalApiServer* localApi_ = nullptr;
    QAction* localApiToggle_ = nullptr;
    QAction* localApiSettingsAction_ = nullptr;
    QAction* openAction_ = nullptr;
    QAction* saveAction_ = nullptr;
    QAction* removeAction_ = nullptr;
    QAction* playAction_ = nullptr;
    QAction* stopAction_ = nullptr;
    QAction* loopAction_ = nullptr;
    QAction* generateAction_ = nullptr;
    QAction* cancelAction_ = nullptr;
    QAction* analyseAction_ = nullptr;
    QAction* variationAction_ = nullptr;
    QAction* modelsAction_ = nullptr;
    QAction* useSettingsAction_ = nullptr;
    QAction* keepTakeAction_ = nullptr;
    QAction* discardTakeAction_ = nullptr;
    QAction* moreLikeThisAction_ = nullptr;
    QAction* compareTakesAction_ = nullptr;
    QAction* historyAction_ = nullptr;
    QAction* promptListAction_ = nullptr;
    QAction* quitAction_ = nullptr;
    QSet<quint64> generationTasks_;
    std::unique_ptr<GenerationHistory> history_;
    QThreadPool historyWriter_;  // one thread: entries are written in the order generations finish
    HistoryDialog* historyDialog_ = nullptr;
    PromptListDialog* promptList_ = nullptr;
    QPointer<TakesCompareDialog> compareDialog_;
    QSet<QString> restoringHistory_;  // history files being loaded back into the library
    struct TakeSlot {
        quint64 group = 0;  // 0: a single clip, not a group
        int index = 0, count = 0;
        int batch = -1, batchRow = -1;
        double fraction = 0.0;
        QString state;      // "" while running; "done", "failed: ...", "cancelled" when finished
    };
    QHash<quint64, TakeSlot> takeSlots_;  // by task id; finished ones are kept for their batch row
    quint64 nextTakeGroup_ = 1;
    int currentBatch_ = 0;
    QSet<quint64> analysisTasks_;
    QStringList refusals_;
    QStringList pendingRefusals_;
    QTimer refusalTimer_;
    QByteArray defaultState_;
};

}  // namespace grym::ui
