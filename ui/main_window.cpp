#include "main_window.h"

#include "audio_controls.h"
#include "audio_player.h"
#include "clip_drag.h"
#include "data_paths.h"
#include "export_dialog.h"
#include "generation_form.h"
#include "history_dialog.h"
#include "local_api_dialog.h"
#include "model_manager_dialog.h"
#include "prompt_list_dialog.h"
#include "resource_graphs.h"
#include "results_display.h"
#include "takes_compare_dialog.h"
#include "waveform_view.h"

#include "hub/recommended_models.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCheckBox>
#include <QPlainTextEdit>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QRegularExpression>
#include <QScrollBar>
#include <QSettings>
#include <QSlider>
#include <QStatusBar>
#include <QStyle>
#include <QTableView>
#include <QToolBar>
#include <QVBoxLayout>

#include <QRandomGenerator>

namespace grym::ui {

namespace {

QStringList localPaths(const QMimeData* mime) {
    QStringList paths;
    if (!mime || !mime->hasUrls()) return paths;
    for (const QUrl& url : mime->urls())
        if (url.isLocalFile()) paths << url.toLocalFile();
    return paths;
}

QString clipNameForPrompt(const QString& prompt, qint64 seed) {
    QString name = prompt.simplified();
    if (name.size() > 40) name = name.left(39) + QStringLiteral("…");
    return QStringLiteral("%1 · seed %2").arg(name).arg(seed);
}

QString settingsPrompt(const nlohmann::json& settings) {
    return QString::fromStdString(settings.is_object() ? settings.value("prompt", std::string()) : std::string());
}

qint64 settingsSeed(const nlohmann::json& settings) { return settings.is_object() ? settings.value("seed", qint64(0)) : 0; }

constexpr double kMoreLikeThisStrength = 0.5;  // keeps the take's character, moves its details

}  // namespace

MainWindow::MainWindow(CoreAdapter* adapter, QWidget* parent)
    : QMainWindow(parent),
      adapter_(adapter),
      library_(new ClipLibrary(this)),
      dragExporter_(new ClipDragExporter(adapter, QDir(userDataDirectory()).filePath(QStringLiteral("drag-out")), this)),
      history_(std::make_unique<GenerationHistory>(historyDirectory())) {
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(QStringLiteral("grym-synth"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/grym-synth.svg")));
    setAcceptDrops(true);
    setDockNestingEnabled(true);
    historyWriter_.setMaxThreadCount(1);

    player_ = new AudioPlayer(this);
    results_ = new ResultsDisplay(this);
    controls_ = new AudioControls(player_, this);
    auto* central = new QWidget(this);
    auto* centralLayout = new QVBoxLayout(central);
    centralLayout->setContentsMargins(0, 0, 0, 0);
    centralLayout->setSpacing(0);
    centralLayout->addWidget(results_, 1);
    centralLayout->addWidget(controls_);
    setCentralWidget(central);
    controls_->installShortcuts(this);

    buildDocks();
    buildActions();
    buildMenus();

    taskLabel_ = new QLabel(this);
    deviceLabel_ = new QLabel(this);
    statusBar()->addPermanentWidget(taskLabel_);
    statusBar()->addPermanentWidget(deviceLabel_);
    deviceLabel_->setText(player_->hasOutputDevice() ? tr("audio output ready") : tr("no audio output"));
    apiLabel_ = new QLabel(this);
    apiLabel_->setObjectName(QStringLiteral("localApiLabel"));
    apiLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    statusBar()->addPermanentWidget(apiLabel_);
    connect(localApi_, &LocalApiServer::stateChanged, this, &MainWindow::showLocalApiState);
    connect(localApi_, &LocalApiServer::failed, this, [this](const QString& message) { statusBar()->showMessage(message, 10000); });
    if (const LocalApiSettings api = loadLocalApiSettings(); api.enabled) setLocalApiSettings(api);
    showLocalApiState();

    refusalTimer_.setSingleShot(true);
    refusalTimer_.setInterval(150);  // one message for a whole drop, not one per file
    connect(&refusalTimer_, &QTimer::timeout, this, &MainWindow::showRefusals);

    connect(adapter_, &CoreAdapter::clipLoaded, this, &MainWindow::onClipLoaded);
    connect(adapter_, &CoreAdapter::fileRefused, this, &MainWindow::onFileRefused);
    connect(adapter_, &CoreAdapter::taskProgressed, this, &MainWindow::onTaskProgress);
    connect(adapter_, &CoreAdapter::taskFinished, this, &MainWindow::onTaskFinished);
    connect(adapter_, &CoreAdapter::audioSaved, this, [this](const QString& path) {
        statusBar()->showMessage(tr("Saved %1").arg(QDir::toNativeSeparators(path)), 5000);
        addRecentFile(path);
    });
    connect(adapter_, &CoreAdapter::audioSaveFailed, this, [this](const QString& path, const QString& reason) {
        results_->setStatus(ResultsDisplay::Status::Error, tr("Could not save %1: %2").arg(QFileInfo(path).fileName(), reason));
    });
    connect(adapter_, &CoreAdapter::clipExported, this, [this](const QString& path, const QString& summary) {
        statusBar()->showMessage(tr("Exported %1 (%2)").arg(QDir::toNativeSeparators(path), summary), 8000);
    });
    connect(adapter_, &CoreAdapter::exportFailed, this, [this](const QString& path, const QString& reason) {
        results_->setStatus(ResultsDisplay::Status::Error, tr("Could not export %1: %2").arg(QFileInfo(path).fileName(), reason));
    });
    connect(dragExporter_, &ClipDragExporter::failed, this, [this](const QString& message) {
        results_->setStatus(ResultsDisplay::Status::Error, tr("Drag-out failed: %1").arg(message));
    });
    connect(results_, &ResultsDisplay::exportRequested, this, &MainWindow::openExportDialog);
    connect(results_, &ResultsDisplay::dragOutRequested, this, &MainWindow::dragOutCurrent);
    connect(adapter_, &CoreAdapter::serviceFailed, this, [this](const QString& id, const QString& message) {
        statusBar()->showMessage(tr("%1: %2").arg(id, message), 8000);
    });
    connect(adapter_, &CoreAdapter::serviceChanged, this, &MainWindow::updateModelOffer);
    connect(form_, &GenerationForm::downloadModelRequested, this,
            [this](const QString& repoId) { showModelManager()->showRecommended(repoId); });
    connect(adapter_, &CoreAdapter::memoryAlert, this, [this](int level, const QString& message) {
        if (level > 0) statusBar()->showMessage(tr("Memory: %1").arg(message), 10000);
    });

    connect(form_, &GenerationForm::generateRequested, this, &MainWindow::onGenerateRequested);
    connect(form_, &GenerationForm::cancelRequested, this, &MainWindow::cancelGeneration);
    connect(form_, &GenerationForm::validityChanged, this, &MainWindow::updateActions);
    connect(results_, &ResultsDisplay::seekRequested, player_, &AudioPlayer::seek);
    connect(results_, &ResultsDisplay::saveRequested, this, &MainWindow::promptSaveCurrent);
    connect(results_, &ResultsDisplay::analyseRequested, this, [this] { analyseClip(currentClipId()); });
    connect(results_, &ResultsDisplay::variationRequested, this, [this] { startVariation(currentClipId()); });
    // A range selected in the waveform (Shift+drag) is offered for regeneration in the form.
    connect(results_->waveform(), &WaveformView::selectionChanged, this, [this] {
        const std::optional<TimeRange> range = results_->waveform()->selection();
        if (!range) return form_->setSelection(std::nullopt);
        const Clip* clip = library_->find(currentClipId());
        if (!clip) return;
        form_->setSource(clip->id, clip->audio, clip->name);
        form_->setSelection(*range);
        generateDock_->show();
        statusBar()->showMessage(tr("Regenerate %1–%2 s of %3: give a prompt and press Generate")
                                     .arg(range->startSeconds, 0, 'f', 2).arg(range->endSeconds, 0, 'f', 2).arg(clip->name), 6000);
    });
    connect(player_, &AudioPlayer::positionChanged, results_, &ResultsDisplay::setPlayhead);
    connect(player_, &AudioPlayer::stateChanged, this, &MainWindow::updateActions);
    connect(player_, &AudioPlayer::outputUnavailable, this, [this](const QString& message) {
        deviceLabel_->setText(tr("no audio output"));
        statusBar()->showMessage(message, 10000);
    });
    connect(libraryView_->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &MainWindow::showCurrentClip);

    resize(1400, 880);
    defaultState_ = saveState();
    restoreLayout();
    rebuildRecentMenu();
    updateActions();
    updateTaskStatus();
    updateModelOffer();
    qApp->installEventFilter(this);
    statusBar()->showMessage(tr("Drop audio files or folders anywhere, or describe a sound and press Generate."));
}

MainWindow::~MainWindow() {
    delete compareDialog_;  // it watches the library, which goes before the window's other children
    historyWriter_.waitForDone();  // a finished generation is on disk before the window goes
    qApp->removeEventFilter(this);
    for (quint64 id : std::as_const(generationTasks_)) adapter_->cancel(id);
    for (quint64 id : std::as_const(analysisTasks_)) adapter_->cancel(id);
}

void MainWindow::buildDocks() {
    libraryView_ = new QTableView(this);
    libraryView_->setObjectName(QStringLiteral("libraryView"));
    libraryView_->setModel(library_);
    libraryView_->setSelectionBehavior(QAbstractItemView::SelectRows);
    libraryView_->setSelectionMode(QAbstractItemView::SingleSelection);
    // Rows drag out of the app as files (drag-out); nothing is dropped onto the list itself.
    library_->setDragExporter(dragExporter_);
    libraryView_->setDragEnabled(true);
    libraryView_->setDragDropMode(QAbstractItemView::DragOnly);
    libraryView_->setDefaultDropAction(Qt::CopyAction);
    libraryView_->verticalHeader()->hide();
    libraryView_->horizontalHeader()->setSectionResizeMode(ClipLibrary::Name, QHeaderView::Stretch);
    for (int c : {ClipLibrary::Duration, ClipLibrary::Rate, ClipLibrary::Source, ClipLibrary::Take})
        libraryView_->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    // The header sizes ResizeToContents columns when its own sections change, not when rows
    // arrive: without this the first clips' "44.1 kHz" stays cut to the header's "Rate" width.
    auto fitColumns = [this] {
        QTimer::singleShot(0, libraryView_, [view = libraryView_] {
            int fitted = 0;
            for (int c : {ClipLibrary::Duration, ClipLibrary::Rate, ClipLibrary::Source, ClipLibrary::Take}) {
                view->resizeColumnToContents(c);
                fitted += view->columnWidth(c);
            }
            // The stretched name column keeps room for about 18 characters: the dock may not
            // squeeze it to nothing once the other columns have their full width.
            view->setMinimumWidth(fitted + view->fontMetrics().averageCharWidth() * 18 + 2 * view->frameWidth() +
                                  view->verticalScrollBar()->sizeHint().width());
        });
    };
    connect(library_, &QAbstractItemModel::rowsInserted, libraryView_, fitColumns);
    connect(library_, &QAbstractItemModel::rowsRemoved, libraryView_, fitColumns);
    connect(library_, &QAbstractItemModel::dataChanged, libraryView_, fitColumns);
    libraryView_->setAlternatingRowColors(true);
    libraryView_->setShowGrid(false);
    libraryView_->setWordWrap(false);
    libraryView_->verticalHeader()->setDefaultSectionSize(libraryView_->fontMetrics().height() + 10);
    libraryDock_ = new QDockWidget(tr("Library"), this);
    libraryDock_->setObjectName(QStringLiteral("libraryDock"));
    libraryDock_->setWidget(libraryView_);
    addDockWidget(Qt::LeftDockWidgetArea, libraryDock_);

    form_ = new GenerationForm(this);
    form_->setLimits(adapter_->api().limits());
    generateDock_ = new QDockWidget(tr("Generate"), this);
    generateDock_->setObjectName(QStringLiteral("generateDock"));
    generateDock_->setWidget(form_);
    addDockWidget(Qt::LeftDockWidgetArea, generateDock_);
    splitDockWidget(libraryDock_, generateDock_, Qt::Vertical);

    graphs_ = new ResourceGraphs(adapter_, this);
    resourcesDock_ = new QDockWidget(tr("Resources"), this);
    resourcesDock_->setObjectName(QStringLiteral("resourcesDock"));
    resourcesDock_->setWidget(graphs_);
    addDockWidget(Qt::RightDockWidgetArea, resourcesDock_);
    resizeDocks({libraryDock_, resourcesDock_}, {400, 420}, Qt::Horizontal);
    resizeDocks({libraryDock_, generateDock_}, {300, 460}, Qt::Vertical);
}

void MainWindow::buildActions() {
    auto icon = [this](QStyle::StandardPixmap p) { return style()->standardIcon(p); };
    openAction_ = new QAction(icon(QStyle::SP_DialogOpenButton), tr("&Open…"), this);
    openAction_->setShortcut(QKeySequence::Open);
    openAction_->setToolTip(tr("Open audio files (WAV, FLAC, OGG, MP3, AIFF)"));
    connect(openAction_, &QAction::triggered, this, &MainWindow::openFilesDialog);
    saveAction_ = new QAction(icon(QStyle::SP_DialogSaveButton), tr("&Save Clip As…"), this);
    saveAction_->setShortcut(QKeySequence::Save);
    connect(saveAction_, &QAction::triggered, this, &MainWindow::promptSaveCurrent);
    removeAction_ = new QAction(icon(QStyle::SP_TrashIcon), tr("&Remove Clip"), this);
    removeAction_->setShortcut(QKeySequence::Delete);
    connect(removeAction_, &QAction::triggered, this, [this] {
        const quint64 id = currentClipId();
        if (id != 0 && library_->remove(id)) showCurrentClip();
    });
    exportAction_ = new QAction(tr("&Export Clip…"), this);
    exportAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    exportAction_->setToolTip(tr("Export with trim, fades and loudness normalisation as WAV, FLAC or OGG"));
    connect(exportAction_, &QAction::triggered, this, &MainWindow::openExportDialog);
    quitAction_ = new QAction(tr("&Quit"), this);
    quitAction_->setShortcut(QKeySequence::Quit);
    connect(quitAction_, &QAction::triggered, this, &QWidget::close);

    playAction_ = new QAction(icon(QStyle::SP_MediaPlay), tr("&Play / Pause"), this);
    playAction_->setToolTip(tr("Play / pause (Space)"));
    connect(playAction_, &QAction::triggered, player_, &AudioPlayer::togglePlayPause);
    stopAction_ = new QAction(icon(QStyle::SP_MediaStop), tr("&Stop"), this);
    connect(stopAction_, &QAction::triggered, player_, &AudioPlayer::stop);
    loopAction_ = new QAction(tr("&Loop"), this);
    loopAction_->setCheckable(true);
    connect(loopAction_, &QAction::toggled, controls_->loopBox(), &QAbstractButton::setChecked);
    connect(controls_->loopBox(), &QAbstractButton::toggled, loopAction_, &QAction::setChecked);

    generateAction_ = new QAction(icon(QStyle::SP_MediaSeekForward), tr("&Generate"), this);
    generateAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return));
    connect(generateAction_, &QAction::triggered, form_->generateButton(), &QPushButton::click);
    cancelAction_ = new QAction(icon(QStyle::SP_BrowserStop), tr("&Cancel Generation"), this);
    cancelAction_->setShortcut(QKeySequence(Qt::Key_Escape));
    connect(cancelAction_, &QAction::triggered, this, &MainWindow::cancelGeneration);
    analyseAction_ = new QAction(icon(QStyle::SP_FileDialogContentsView), tr("&Analyse Clip"), this);
    analyseAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_A));
    connect(analyseAction_, &QAction::triggered, this, [this] { analyseClip(currentClipId()); });
    variationAction_ = new QAction(icon(QStyle::SP_BrowserReload), tr("&Variation of Clip"), this);
    connect(variationAction_, &QAction::triggered, this, [this] { startVariation(currentClipId()); });
    useSettingsAction_ = new QAction(tr("&Use These Settings"), this);
    useSettingsAction_->setToolTip(tr("Put the settings this clip was generated with into the Generate form"));
    connect(useSettingsAction_, &QAction::triggered, this, [this] { useClipSettings(currentClipId()); });
    keepTakeAction_ = new QAction(tr("&Keep Take"), this);
    keepTakeAction_->setCheckable(true);
    keepTakeAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_K));
    connect(keepTakeAction_, &QAction::triggered, this, [this](bool on) { setTakeKept(currentClipId(), on); });
    discardTakeAction_ = new QAction(tr("&Discard Take"), this);
    discardTakeAction_->setToolTip(tr("Remove this take from the library (it stays in the history)"));
    connect(discardTakeAction_, &QAction::triggered, this, [this] { discardTake(currentClipId()); });
    moreLikeThisAction_ = new QAction(tr("&More Like This"), this);
    moreLikeThisAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_M));
    moreLikeThisAction_->setToolTip(tr("New takes that vary the selected one (its prompt and settings, new seeds)"));
    connect(moreLikeThisAction_, &QAction::triggered, this, [this] { moreLikeThis(currentClipId()); });
    compareTakesAction_ = new QAction(tr("Compare &Takes…"), this);
    compareTakesAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_T));
    compareTakesAction_->setToolTip(tr("The takes of this clip's group side by side: switch between them at the same position"));
    connect(compareTakesAction_, &QAction::triggered, this, [this] { compareTakes(currentClipId()); });
    historyAction_ = new QAction(tr("&History…"), this);
    historyAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_H));
    connect(historyAction_, &QAction::triggered, this, &MainWindow::showHistory);
    promptListAction_ = new QAction(tr("&Prompt List…"), this);
    promptListAction_->setToolTip(tr("Queue many prompts as one batch"));
    connect(promptListAction_, &QAction::triggered, this, &MainWindow::showPromptList);
    modelsAction_ = new QAction(icon(QStyle::SP_DriveHDIcon), tr("&Model Manager…"), this);
    connect(modelsAction_, &QAction::triggered, this, &MainWindow::showModelManager);

    localApi_ = new LocalApiServer(adapter_->api(), this);
    localApiToggle_ = new QAction(tr("Serve &Local API"), this);
    localApiToggle_->setCheckable(true);
    localApiToggle_->setToolTip(tr("Let scripts on this computer drive the app over HTTP (127.0.0.1 only)"));
    connect(localApiToggle_, &QAction::triggered, this, [this](bool on) {
        LocalApiSettings settings = loadLocalApiSettings();
        settings.enabled = on;
        setLocalApiSettings(settings);
    });
    localApiSettingsAction_ = new QAction(tr("Local &API Settings…"), this);
    connect(localApiSettingsAction_, &QAction::triggered, this, &MainWindow::showLocalApiSettings);
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(openAction_);
    recentMenu_ = file->addMenu(tr("Open &Recent"));
    file->addAction(saveAction_);
    file->addAction(exportAction_);
    dragFormatMenu_ = file->addMenu(tr("&Drag-out Format"));
    dragFormatMenu_->setToolTip(tr("The format of the files that clips dragged out of the app become"));
    auto* dragFormats = new QActionGroup(dragFormatMenu_);
    for (ExportFormat format : allExportFormats()) {
        QAction* choice = dragFormatMenu_->addAction(QString::fromLatin1(displayName(format)));
        choice->setCheckable(true);
        choice->setData(QString::fromLatin1(toString(format)));
        choice->setChecked(format == dragExporter_->format());
        dragFormats->addAction(choice);
        connect(choice, &QAction::triggered, this, [this, format] { setDragOutFormat(format); });
    }
    file->addSeparator();
    file->addAction(removeAction_);
    file->addSeparator();
    file->addAction(quitAction_);

    QMenu* playback = menuBar()->addMenu(tr("&Playback"));
    playback->addAction(playAction_);
    playback->addAction(stopAction_);
    playback->addAction(loopAction_);

    QMenu* generate = menuBar()->addMenu(tr("&Generate"));
    generate->addAction(generateAction_);
    generate->addAction(cancelAction_);
    generate->addSeparator();
    generate->addAction(analyseAction_);
    generate->addAction(variationAction_);
    generate->addSeparator();
    generate->addAction(useSettingsAction_);
    generate->addAction(compareTakesAction_);
    generate->addAction(moreLikeThisAction_);
    generate->addAction(keepTakeAction_);
    generate->addAction(discardTakeAction_);
    generate->addSeparator();
    generate->addAction(promptListAction_);

    // A library row's own menu: what applies to that clip.
    libraryView_->setContextMenuPolicy(Qt::ActionsContextMenu);
    auto* separator = new QAction(this);
    separator->setSeparator(true);
    libraryView_->addActions({compareTakesAction_, moreLikeThisAction_, keepTakeAction_, discardTakeAction_, separator,
                              useSettingsAction_, analyseAction_, exportAction_, removeAction_});

    QMenu* tools = menuBar()->addMenu(tr("&Tools"));
    tools->addAction(modelsAction_);
    tools->addSeparator();
    tools->addAction(localApiToggle_);
    tools->addAction(localApiSettingsAction_);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    view->addAction(libraryDock_->toggleViewAction());
    view->addAction(generateDock_->toggleViewAction());
    view->addAction(resourcesDock_->toggleViewAction());
    view->addAction(historyAction_);
    view->addSeparator();
    view->addAction(tr("&Reset Layout"), this, [this] {
        restoreState(defaultState_);
        for (QDockWidget* dock : {libraryDock_, generateDock_, resourcesDock_}) dock->show();
    });

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About grym-synth"), this, [this] {
        QMessageBox::about(this, tr("About grym-synth"),
                           tr("<h3>grym-synth %1</h3><p>Text-to-audio with AudioLDM and audio analysis with wav2vec2, "
                              "running locally through libtorch.</p><p>Keys: Space play/pause, \u2190/\u2192 seek 5 s, "
                              "Home/End, Ctrl+Return generate, Esc cancel.</p>").arg(QApplication::applicationVersion()));
    });

    QToolBar* bar = addToolBar(tr("Main"));
    bar->setObjectName(QStringLiteral("mainToolBar"));
    bar->setMovable(false);
    bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    bar->setIconSize({18, 18});
    bar->addAction(openAction_);
    bar->addAction(saveAction_);
    bar->addSeparator();
    bar->addAction(playAction_);
    bar->addAction(stopAction_);
    bar->addSeparator();
    bar->addAction(generateAction_);
    bar->addAction(cancelAction_);
    bar->addAction(analyseAction_);
    bar->addAction(variationAction_);
    bar->addSeparator();
    bar->addAction(modelsAction_);
}

void MainWindow::restoreLayout() {
    QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
    controls_->volumeSlider()->setValue(settings.value(QStringLiteral("player/volume"), controls_->volumeSlider()->value()).toInt());
    controls_->loopBox()->setChecked(settings.value(QStringLiteral("player/loop"), false).toBool());
}

void MainWindow::saveLayout() const {
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    settings.setValue(QStringLiteral("player/volume"), controls_->volumeSlider()->value());
    settings.setValue(QStringLiteral("player/loop"), controls_->loopBox()->isChecked());
}

void MainWindow::closeEvent(QCloseEvent* event) {
    saveLayout();
    form_->saveSettings();
    QMainWindow::closeEvent(event);
}

bool MainWindow::eventFilter(QObject* watched, QEvent* event) {
    const auto type = event->type();
    if (type != QEvent::DragEnter && type != QEvent::DragMove && type != QEvent::Drop) return false;
    auto* widget = qobject_cast<QWidget*>(watched);
    if (!widget || widget->window() != this) return false;
    auto* drop = static_cast<QDropEvent*>(event);
    // A drag-out that comes back onto the window is not a new file to load.
    if (drop->source() != nullptr) return false;
    const QStringList paths = localPaths(drop->mimeData());
    if (paths.isEmpty()) return false;  // text drops keep going to the text fields
    drop->acceptProposedAction();
    if (type == QEvent::Drop) openPaths(paths);
    return true;
}

void MainWindow::openFilesDialog() {
    QSettings settings;
    QStringList patterns;
    for (const QString& suffix : CoreAdapter::audioFileSuffixes()) patterns << QStringLiteral("*.") + suffix;
    const QStringList files = QFileDialog::getOpenFileNames(
        this, tr("Open audio files"), settings.value(QStringLiteral("paths/lastOpenDir")).toString(),
        tr("Audio files (%1);;All files (*)").arg(patterns.join(QLatin1Char(' '))));
    if (files.isEmpty()) return;
    settings.setValue(QStringLiteral("paths/lastOpenDir"), QFileInfo(files.front()).absolutePath());
    openPaths(files);
}

void MainWindow::openPaths(const QStringList& paths) {
    if (paths.isEmpty()) return;
    statusBar()->showMessage(tr("Loading %n item(s)…", nullptr, static_cast<int>(paths.size())));
    adapter_->loadPaths(paths);
}

void MainWindow::onClipLoaded(const QString& path, std::shared_ptr<const AudioBuffer> audio) {
    Clip clip;
    clip.name = QFileInfo(path).fileName();
    clip.filePath = QFileInfo(path).absoluteFilePath();
    clip.source = ClipSource::File;
    clip.audio = std::move(audio);
    clip.settings = CoreAdapter::readClipSettings(path);
    if (restoringHistory_.remove(clip.filePath)) {  // back from the history folder: not a user's file
        clip.source = ClipSource::Generated;
        clip.historyPath = clip.filePath;
        clip.name = clipNameForPrompt(settingsPrompt(clip.settings), settingsSeed(clip.settings));
        clip.added = QFileInfo(path).lastModified();
        const quint64 id = library_->add(std::move(clip));
        if (currentClipId() == 0) selectClip(id);
        return;
    }
    const bool hasSettings = clip.settings.is_object();
    const quint64 id = library_->add(std::move(clip));
    addRecentFile(path);
    selectClip(id);
    statusBar()->showMessage(hasSettings ? tr("Loaded %1: it carries the settings it was generated with "
                                              "(Generate ▸ Use These Settings)").arg(QFileInfo(path).fileName())
                                         : tr("Loaded %1").arg(QFileInfo(path).fileName()),
                             hasSettings ? 8000 : 4000);
}

void MainWindow::onFileRefused(const QString& path, const QString& reason) {
    const QString line = tr("%1: %2").arg(QDir::toNativeSeparators(path), reason);
    refusals_ << line;
    pendingRefusals_ << line;
    statusBar()->showMessage(tr("Could not open %1").arg(line), 8000);
    refusalTimer_.start();
}

void MainWindow::showRefusals() {
    if (pendingRefusals_.isEmpty()) return;
    auto* box = new QMessageBox(QMessageBox::Warning, tr("Some files could not be opened"),
                                tr("%n file(s) could not be opened; the others were loaded.", nullptr,
                                   static_cast<int>(pendingRefusals_.size())),
                                QMessageBox::Ok, this);
    box->setObjectName(QStringLiteral("refusalMessage"));
    box->setInformativeText(pendingRefusals_.join(QStringLiteral("\n")));
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();  // never blocks the event loop
    pendingRefusals_.clear();
}

QStringList MainWindow::recentFiles() const {
    return QSettings().value(QStringLiteral("recentFiles")).toStringList();
}

void MainWindow::addRecentFile(const QString& path) {
    QStringList files = recentFiles();
    const QString absolute = QFileInfo(path).absoluteFilePath();
    files.removeAll(absolute);
    files.prepend(absolute);
    while (files.size() > kMaxRecentFiles) files.removeLast();
    QSettings().setValue(QStringLiteral("recentFiles"), files);
    rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu() {
    recentMenu_->clear();
    const QStringList files = recentFiles();
    for (const QString& file : files) {
        QAction* action = recentMenu_->addAction(QFileInfo(file).fileName(), this, [this, file] { openPaths({file}); });
        action->setToolTip(file);
    }
    if (!files.isEmpty()) {
        recentMenu_->addSeparator();
        recentMenu_->addAction(tr("Clear Recent Files"), this, [this] {
            QSettings().remove(QStringLiteral("recentFiles"));
            rebuildRecentMenu();
        });
    }
    recentMenu_->setEnabled(!files.isEmpty());
}

quint64 MainWindow::currentClipId() const {
    const QModelIndex index = libraryView_->currentIndex();
    return index.isValid() ? library_->at(index.row()).id : 0;
}

void MainWindow::selectClip(quint64 clipId) {
    const int row = library_->rowOf(clipId);
    if (row < 0) return;
    const QModelIndex index = library_->index(row, 0);
    if (libraryView_->currentIndex() == index) showCurrentClip();
    else libraryView_->setCurrentIndex(index);  // currentRowChanged shows it
    libraryView_->scrollTo(index);
}

void MainWindow::showCurrentClip() {
    const Clip* clip = library_->find(currentClipId());
    if (!clip || results_->clipId() != clip->id) player_->setAudio(clip ? clip->audio : nullptr);
    results_->showClip(clip);
    updateActions();
}

void MainWindow::updateActions() {
    const bool hasClip = currentClipId() != 0;
    saveAction_->setEnabled(hasClip);
    exportAction_->setEnabled(hasClip);
    removeAction_->setEnabled(hasClip);
    analyseAction_->setEnabled(hasClip);
    variationAction_->setEnabled(hasClip);
    const Clip* current = library_->find(currentClipId());
    useSettingsAction_->setEnabled(current && current->settings.is_object());
    moreLikeThisAction_->setEnabled(hasClip);
    keepTakeAction_->setEnabled(hasClip);
    compareTakesAction_->setEnabled(current && current->takeGroup != 0);
    keepTakeAction_->setChecked(current && current->kept);
    discardTakeAction_->setEnabled(hasClip);
    playAction_->setEnabled(hasClip);
    stopAction_->setEnabled(hasClip);
    playAction_->setIcon(style()->standardIcon(player_->state() == AudioPlayer::State::Playing ? QStyle::SP_MediaPause : QStyle::SP_MediaPlay));
    generateAction_->setEnabled(form_->isValid() && !form_->busy());
    cancelAction_->setEnabled(!generationTasks_.isEmpty());
}

void MainWindow::updateTaskStatus() {
    const int running = generationTasks_.size() + analysisTasks_.size();
    taskLabel_->setText(running == 0 ? tr("no tasks running") : tr("%n task(s) running", nullptr, running));
}

void MainWindow::onGenerateRequested(const GenerationRequest& request, int variations) {
    submitTakes(request, variations);
}

void MainWindow::submitTakes(const GenerationRequest& request, int takes, int batchRow) {
    const quint64 group = takes > 1 ? nextTakeGroup_++ : 0;
    for (int i = 0; i < takes; ++i) {
        GenerationRequest r = request;
        r.settings.seed = request.settings.seed.value_or(0) + i;
        if (const Clip* source = library_->find(r.sourceClipId)) r.sourceAnalysis = source->analysis;
        const quint64 task = adapter_->generate(r);
        generationTasks_.insert(task);
        TakeSlot slot;
        slot.group = group;
        slot.index = i + 1;
        slot.count = takes;
        if (batchRow >= 0) {
            slot.batch = currentBatch_;
            slot.batchRow = batchRow;
        }
        takeSlots_.insert(task, slot);
    }
    const int variations = takes;
    form_->setBusy(true);
    results_->setStatus(ResultsDisplay::Status::Generating,
                        variations > 1 ? tr("%1 variations of \"%2\"").arg(variations).arg(QString::fromStdString(request.settings.prompt))
                                      : tr("\"%1\"").arg(QString::fromStdString(request.settings.prompt)));
    updateActions();
    updateTaskStatus();
}

void MainWindow::cancelGeneration() {
    for (quint64 id : std::as_const(generationTasks_)) adapter_->cancel(id);
    if (!generationTasks_.isEmpty()) statusBar()->showMessage(tr("Cancelling…"));
}

void MainWindow::analyseClip(quint64 clipId) {
    const Clip* clip = library_->find(clipId);
    if (!clip) return;
    analysisTasks_.insert(adapter_->analyse(clipId, clip->audio));
    if (generationTasks_.isEmpty()) results_->setStatus(ResultsDisplay::Status::Analysing, clip->name);
    updateTaskStatus();
}

void MainWindow::startVariation(quint64 clipId) {
    const Clip* clip = library_->find(clipId);
    if (!clip) return;
    form_->setSource(clip->id, clip->audio, clip->name);
    generateDock_->show();
    generateDock_->raise();
    form_->promptEdit()->setFocus();
    statusBar()->showMessage(tr("Variation of %1: adjust the prompt and press Generate").arg(clip->name), 6000);
}

void MainWindow::onTaskProgress(quint64 taskId, const TaskProgress& progress) {
    if (auto slot = takeSlots_.find(taskId); slot != takeSlots_.end() && slot->batchRow >= 0) {
        slot->fraction = progress.fraction;
        updateBatchRow(slot->batch, slot->batchRow);
    }
    if (generationTasks_.contains(taskId) || (generationTasks_.isEmpty() && analysisTasks_.contains(taskId)))
        results_->setProgress(progress);
}

void MainWindow::onTaskFinished(const TaskOutcome& outcome) {
    const bool generation = generationTasks_.remove(outcome.taskId);
    const bool analysis = analysisTasks_.remove(outcome.taskId);
    if (!generation && !analysis) return;
    graphs_->addTaskTiming(outcome);
    using State = TaskOutcome::State;
    TakeSlot slot = takeSlots_.value(outcome.taskId);
    if (generation) {
        if (slot.batchRow < 0) {
            takeSlots_.remove(outcome.taskId);
        } else if (auto it = takeSlots_.find(outcome.taskId); it != takeSlots_.end()) {
            it->fraction = 1.0;
            it->state = outcome.state == State::Succeeded ? tr("done")
                        : outcome.state == State::Cancelled ? tr("cancelled")
                                                            : tr("failed: %1").arg(outcome.message);
            updateBatchRow(it->batch, it->batchRow);
        }
    }
    if (outcome.state == State::Succeeded && generation) {
        Clip clip;
        const GenerateRequest& settings = outcome.request.settings;
        clip.name = clipNameForPrompt(QString::fromStdString(settings.prompt), settings.seed.value_or(0));
        clip.source = outcome.request.sourceAudio ? ClipSource::Variation : ClipSource::Generated;
        clip.audio = outcome.audio;
        clip.metrics = outcome.metrics;
        clip.metrics["seed"] = settings.seed.value_or(0);
        clip.metrics["steps"] = settings.steps;
        clip.metrics["guidance_scale"] = settings.guidanceScale;
        clip.metrics["scheduler"] = settings.scheduler;
        clip.takeGroup = slot.group;
        clip.takeIndex = slot.index;
        clip.takeCount = slot.count;
        const auto provenance = outcome.data.is_object() ? outcome.data.find("provenance") : outcome.data.end();
        if (provenance != outcome.data.end() && provenance->is_object()) clip.settings = *provenance;
        const quint64 id = library_->add(clip);
        recordInHistory(id, clip.audio, clip.settings);
        selectClip(id);
        if (settings.loop) controls_->loopBox()->setChecked(true);  // a seamless loop plays as one
    } else if (outcome.state == State::Succeeded && analysis) {
        library_->setAnalysis(outcome.clipId, outcome.data);
        if (results_->clipId() == outcome.clipId) results_->showClip(library_->find(outcome.clipId));
    }

    const bool stillRunning = !generationTasks_.isEmpty() || !analysisTasks_.isEmpty();
    if (outcome.state == State::Failed) {
        results_->setStatus(ResultsDisplay::Status::Error, outcome.message);
    } else if (!stillRunning || generation) {
        if (outcome.state == State::Cancelled) {
            results_->setStatus(ResultsDisplay::Status::Cancelled, generation ? tr("Generation cancelled.") : tr("Analysis cancelled."));
        } else if (generationTasks_.isEmpty()) {
            const double seconds = outcome.metrics.value("run_seconds", 0.0);
            results_->setStatus(ResultsDisplay::Status::Success,
                                generation ? tr("Generated in %1 s").arg(seconds, 0, 'f', 1) : tr("Analysed in %1 s").arg(seconds, 0, 'f', 1));
        }
    }
    if (generation && generationTasks_.isEmpty()) form_->setBusy(false);
    if (stillRunning && !generationTasks_.isEmpty() && outcome.state != State::Failed)
        results_->setStatus(ResultsDisplay::Status::Generating, tr("%n generation(s) left", nullptr, static_cast<int>(generationTasks_.size())));
    updateActions();
    updateTaskStatus();
}

void MainWindow::promptSaveCurrent() {
    const Clip* clip = library_->find(currentClipId());
    if (!clip) return;
    QSettings settings;
    QString base = clip->filePath.isEmpty() ? clip->name : QFileInfo(clip->filePath).completeBaseName();
    base.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9 _.-]+")), QStringLiteral("_"));
    const QString dir = settings.value(QStringLiteral("paths/lastSaveDir"), QDir::homePath()).toString();
    QString filter;
    QString path = QFileDialog::getSaveFileName(this, tr("Save clip"), QDir(dir).filePath(base.trimmed() + QStringLiteral(".wav")),
                                                tr("WAV (*.wav);;FLAC (*.flac)"), &filter);
    if (path.isEmpty()) return;
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix != QLatin1String("wav") && suffix != QLatin1String("flac"))
        path += filter.startsWith(QLatin1String("FLAC")) ? QStringLiteral(".flac") : QStringLiteral(".wav");
    settings.setValue(QStringLiteral("paths/lastSaveDir"), QFileInfo(path).absolutePath());
    saveClipTo(clip->id, path);
}

ExportDialog* MainWindow::openExportDialog() {
    const Clip* clip = library_->find(currentClipId());
    if (!clip || !clip->audio) return nullptr;
    QSettings settings;
    QString base = clip->filePath.isEmpty() ? clip->name : QFileInfo(clip->filePath).completeBaseName();
    base.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9 _.-]+")), QStringLiteral("_"));
    const QString dir = settings.value(QStringLiteral("paths/lastExportDir"),
                                       settings.value(QStringLiteral("paths/lastSaveDir"), QDir::homePath()))
                            .toString();
    auto* dialog = new ExportDialog(clip->duration(), QDir(dir).filePath(base.trimmed() + QStringLiteral(".wav")),
                                    results_->waveform()->selection(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    const quint64 clipId = clip->id;
    connect(dialog, &QDialog::accepted, this,
            [this, dialog, clipId] { exportClipTo(clipId, dialog->path(), dialog->options()); });
    dialog->open();
    return dialog;
}

void MainWindow::exportClipTo(quint64 clipId, const QString& path, const ExportOptions& options) {
    const Clip* clip = library_->find(clipId);
    if (!clip) return;
    statusBar()->showMessage(tr("Exporting %1…").arg(QFileInfo(path).fileName()));
    adapter_->exportClip(clip->audio, path, options, clip->settings);
}

void MainWindow::dragOutCurrent() {
    const Clip* clip = library_->find(currentClipId());
    if (!clip) return;
    dragExporter_->startDrag(results_->waveform(), *clip, results_->waveform()->selection());
}

void MainWindow::setDragOutFormat(ExportFormat format) {
    dragExporter_->setFormat(format);
    saveDragFormat(format);
    for (QAction* choice : dragFormatMenu_->actions())
        choice->setChecked(choice->data().toString() == QString::fromLatin1(toString(format)));
}

void MainWindow::saveClipTo(quint64 clipId, const QString& path) {
    const Clip* clip = library_->find(clipId);
    if (!clip) return;
    statusBar()->showMessage(tr("Saving %1…").arg(QFileInfo(path).fileName()));
    adapter_->saveAudio(clip->audio, path, clip->settings);
}

void MainWindow::recordInHistory(quint64 clipId, std::shared_ptr<const AudioBuffer> audio, const nlohmann::json& settings) {
    if (!audio) return;
    historyWriter_.start([this, history = *history_, clipId, audio, settings]() mutable {
        QString path, error;
        try {
            path = history.record(*audio, settings).audioPath;
        } catch (const std::exception& e) {
            error = QString::fromUtf8(e.what());
        }
        // Discarded by Qt if the window is gone (its destructor waits for this job first).
        QMetaObject::invokeMethod(this, [this, clipId, path, error] { onHistoryRecorded(clipId, path, error); },
                                  Qt::QueuedConnection);
    });
}

void MainWindow::onHistoryRecorded(quint64 clipId, const QString& audioPath, const QString& error) {
    if (!error.isEmpty()) {
        // The clip is still in the library; saying so lets the user save it by hand.
        statusBar()->showMessage(tr("Not kept in the history: %1").arg(error), 10000);
        return;
    }
    if (Clip* clip = library_->find(clipId)) clip->historyPath = audioPath;
    if (historyDialog_ && historyDialog_->isVisible()) historyDialog_->refresh();
}

void MainWindow::setHistoryFolder(const QString& folder) {
    delete historyDialog_;
    historyDialog_ = nullptr;
    history_ = std::make_unique<GenerationHistory>(folder);
}

void MainWindow::restoreHistory() {
    QStringList problems;
    QVector<HistoryEntry> entries = history_->entries(&problems);
    if (entries.size() > kHistoryInLibrary) entries.resize(kHistoryInLibrary);
    QStringList paths;
    for (auto it = entries.crbegin(); it != entries.crend(); ++it) {  // oldest first: the newest ends on top
        const QString path = QFileInfo(it->audioPath).absoluteFilePath();
        restoringHistory_.insert(path);
        paths << path;
    }
    if (!problems.isEmpty()) refusals_ << problems;
    if (!paths.isEmpty()) adapter_->loadPaths(paths);
}

HistoryDialog* MainWindow::showHistory() {
    if (!historyDialog_) {
        historyDialog_ = new HistoryDialog(*history_, this);
        connect(historyDialog_, &HistoryDialog::openRequested, this, [this](const HistoryEntry& entry) {
            const QString path = QFileInfo(entry.audioPath).absoluteFilePath();
            for (int row = 0; row < library_->count(); ++row)
                if (library_->at(row).historyPath == path) return selectClip(library_->at(row).id);
            restoringHistory_.insert(path);
            adapter_->loadPaths({path});
        });
        connect(historyDialog_, &HistoryDialog::useSettingsRequested, this, [this](const HistoryEntry& entry) {
            form_->applySettings(CoreAdapter::requestFromSettings(entry.settings));
            generateDock_->show();
            generateDock_->raise();
        });
        connect(historyDialog_, &HistoryDialog::runAgainRequested, this, [this](const HistoryEntry& entry) {
            GenerationRequest request;
            request.settings = CoreAdapter::requestFromSettings(entry.settings);
            submitTakes(request, 1);
        });
    }
    historyDialog_->refresh();
    historyDialog_->show();
    historyDialog_->raise();
    return historyDialog_;
}

void MainWindow::useClipSettings(quint64 clipId) {
    const Clip* clip = library_->find(clipId);
    if (!clip || !clip->settings.is_object()) return;
    try {
        form_->applySettings(CoreAdapter::requestFromSettings(clip->settings));
    } catch (const std::exception& e) {
        statusBar()->showMessage(tr("The clip's settings cannot be used: %1").arg(QString::fromUtf8(e.what())), 8000);
        return;
    }
    generateDock_->show();
    generateDock_->raise();
    statusBar()->showMessage(tr("The Generate form holds %1's settings: Generate makes it again").arg(clip->name), 6000);
}

void MainWindow::setTakeKept(quint64 clipId, bool kept) {
    library_->setKept(clipId, kept);
    updateActions();
}

void MainWindow::discardTake(quint64 clipId) {
    const int row = library_->rowOf(clipId);
    if (row < 0 || !library_->remove(clipId)) return;
    if (library_->count() > 0) selectClip(library_->at(std::min(row, library_->count() - 1)).id);
    else showCurrentClip();
}

void MainWindow::moreLikeThis(quint64 clipId) {
    const Clip* clip = library_->find(clipId);
    if (!clip) return;
    GenerationRequest request;
    if (clip->settings.is_object()) {
        request.settings = CoreAdapter::requestFromSettings(clip->settings);
    } else if (form_->isValid()) {
        request = form_->request();
    } else {
        return startVariation(clipId);  // nothing to go on: the form asks for a prompt
    }
    request.settings.seed = QRandomGenerator::global()->bounded(1 << 30);
    request.sourceAudio = clip->audio;
    request.sourceClipId = clip->id;
    request.variationStrength = kMoreLikeThisStrength;
    submitTakes(request, std::max(2, form_->variations()));
}

TakesCompareDialog* MainWindow::takesComparison() const { return compareDialog_; }

TakesCompareDialog* MainWindow::compareTakes(quint64 clipId) {
    const Clip* clip = library_->find(clipId);
    if (!clip || clip->takeGroup == 0) return nullptr;
    if (compareDialog_ && compareDialog_->group() != clip->takeGroup) {
        compareDialog_->close();  // deleted later: a new one opens now
        compareDialog_ = nullptr;
    }
    if (!compareDialog_) {
        compareDialog_ = new TakesCompareDialog(library_, clip->takeGroup, this);
        compareDialog_->setAttribute(Qt::WA_DeleteOnClose);
        connect(compareDialog_, &TakesCompareDialog::keepRequested, this, &MainWindow::setTakeKept);
        connect(compareDialog_, &TakesCompareDialog::discardRequested, this, &MainWindow::discardTake);
        connect(compareDialog_, &TakesCompareDialog::moreLikeThisRequested, this, &MainWindow::moreLikeThis);
        // One player sounds at a time: the window's or the comparison's.
        AudioPlayer* comparing = compareDialog_->player();
        connect(comparing, &AudioPlayer::stateChanged, player_, [this](AudioPlayer::State state) {
            if (state == AudioPlayer::State::Playing) player_->pause();
        });
        connect(player_, &AudioPlayer::stateChanged, comparing, [comparing](AudioPlayer::State state) {
            if (state == AudioPlayer::State::Playing) comparing->pause();
        });
    }
    player_->pause();
    compareDialog_->activateTake(clipId);
    compareDialog_->show();
    compareDialog_->raise();
    compareDialog_->activateWindow();
    return compareDialog_;
}

PromptListDialog* MainWindow::showPromptList() {
    if (!promptList_) {
        promptList_ = new PromptListDialog(this);
        connect(promptList_, &PromptListDialog::queueRequested, this, &MainWindow::queuePrompts);
    }
    promptList_->show();
    promptList_->raise();
    return promptList_;
}

void MainWindow::queuePrompts(const QStringList& prompts) {
    if (prompts.isEmpty()) return;
    for (const auto field : {GenerationForm::Field::NegativePrompt, GenerationForm::Field::Duration,
                             GenerationForm::Field::Steps, GenerationForm::Field::Guidance, GenerationForm::Field::Seed})
        if (!form_->fieldError(field).isEmpty()) {
            statusBar()->showMessage(tr("Fix the Generate form first: %1").arg(form_->fieldError(field)), 8000);
            return;
        }
    for (auto it = takeSlots_.begin(); it != takeSlots_.end();)  // the last batch's finished rows go
        it = it->batchRow >= 0 && !it->state.isEmpty() ? takeSlots_.erase(it) : std::next(it);
    ++currentBatch_;
    showPromptList()->startBatch(prompts);
    GenerationRequest base = form_->request();
    base.sourceAudio.reset();
    base.sourceClipId = 0;
    for (int row = 0; row < prompts.size(); ++row) {
        GenerationRequest request = base;
        request.settings.prompt = prompts[row].toStdString();
        submitTakes(request, form_->variations(), row);
    }
}

void MainWindow::updateBatchRow(int batch, int row) {
    if (!promptList_ || batch != currentBatch_) return;
    double sum = 0;
    int count = 0, finished = 0;
    QStringList failures;
    bool cancelled = false;
    for (const TakeSlot& slot : std::as_const(takeSlots_)) {
        if (slot.batch != batch || slot.batchRow != row) continue;
        ++count;
        sum += slot.fraction;
        if (slot.state.isEmpty()) continue;
        ++finished;
        if (slot.state == tr("cancelled")) cancelled = true;
        else if (slot.state != tr("done")) failures << slot.state;
    }
    if (count == 0) return;
    QString state = finished < count ? (sum > 0 ? tr("generating") : tr("queued"))
                    : !failures.isEmpty() ? failures.front()
                    : cancelled ? tr("cancelled") : tr("done");
    if (count > 1 && finished < count) state += tr(" (%1 of %2 takes done)").arg(finished).arg(count);
    promptList_->setPromptProgress(row, sum / count, state);
}

ModelManagerDialog* MainWindow::showModelManager() {
    if (!modelManager_) {
        modelManager_ = new ModelManagerDialog(adapter_, this, hubEnvironment_);
        connect(modelManager_, &ModelManagerDialog::modelsFolderChanged, this, &MainWindow::modelsFolderChanged);
        connect(modelManager_, &ModelManagerDialog::modelRegistered, this, &MainWindow::modelRegistered);
    }
    modelManager_->refresh();
    modelManager_->show();
    modelManager_->raise();
    return modelManager_;
}

void MainWindow::updateModelOffer() {
    // The desktop registers the generation service even without a model (so a generation says
    // where the model belongs): what counts is whether its folder holds a pipeline.
    const auto generator = adapter_->api().serviceFor(TaskType::Generation);
    const bool haveGenerator =
        generator && (generator->info().modelPath.empty() ||
                      QFileInfo::exists(QDir(QString::fromStdString(generator->info().modelPath)).filePath(QStringLiteral("model_index.json"))));
    form_->offerModelDownload(haveGenerator ? QString() : QString::fromStdString(hub::defaultRepoFor("audioldm")));
}

void MainWindow::setLocalApiSettings(const LocalApiSettings& settings) {
    localApi_->apply(settings);
    showLocalApiState();
}

void MainWindow::showLocalApiSettings() {
    LocalApiDialog dialog(loadLocalApiSettings(), this);
    if (dialog.exec() == QDialog::Accepted) setLocalApiSettings(dialog.settings());
}

void MainWindow::showLocalApiState() {
    const bool running = localApi_->running();
    localApiToggle_->setChecked(running);
    apiLabel_->setVisible(running);
    apiLabel_->setText(running ? tr("API %1").arg(localApi_->url()) : QString());
    apiLabel_->setToolTip(running ? tr("The local HTTP API is serving this app at %1 (see openapi.json there)").arg(localApi_->url())
                                  : QString());
}

}  // namespace grym::ui
