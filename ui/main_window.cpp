#include "main_window.h"

#include "audio_controls.h"
#include "audio_player.h"
#include "generation_form.h"
#include "local_api_dialog.h"
#include "model_manager_dialog.h"
#include "resource_graphs.h"
#include "results_display.h"
#include "waveform_view.h"

#include "hub/recommended_models.h"

#include <QAction>
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
#include <QSettings>
#include <QSlider>
#include <QStatusBar>
#include <QStyle>
#include <QTableView>
#include <QToolBar>
#include <QVBoxLayout>

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

}  // namespace

MainWindow::MainWindow(CoreAdapter* adapter, QWidget* parent)
    : QMainWindow(parent), adapter_(adapter), library_(new ClipLibrary(this)) {
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(QStringLiteral("grym-synth"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/grym-synth.svg")));
    setAcceptDrops(true);
    setDockNestingEnabled(true);

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
    connect(results_->waveform(), &WaveformView::selectionChanged, this, [this](double start, double end) {
        if (end <= start) return form_->setSelection(std::nullopt);
        const Clip* clip = library_->find(currentClipId());
        if (!clip) return;
        form_->setSource(clip->id, clip->audio, clip->name);
        form_->setSelection(ClipRange{start, end});
        generateDock_->show();
        statusBar()->showMessage(tr("Regenerate %1–%2 s of %3: give a prompt and press Generate")
                                     .arg(start, 0, 'f', 2).arg(end, 0, 'f', 2).arg(clip->name), 6000);
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
    libraryView_->verticalHeader()->hide();
    libraryView_->horizontalHeader()->setSectionResizeMode(ClipLibrary::Name, QHeaderView::Stretch);
    for (int c : {ClipLibrary::Duration, ClipLibrary::Rate, ClipLibrary::Source})
        libraryView_->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
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

    QMenu* tools = menuBar()->addMenu(tr("&Tools"));
    tools->addAction(modelsAction_);
    tools->addSeparator();
    tools->addAction(localApiToggle_);
    tools->addAction(localApiSettingsAction_);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    view->addAction(libraryDock_->toggleViewAction());
    view->addAction(generateDock_->toggleViewAction());
    view->addAction(resourcesDock_->toggleViewAction());
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
    const quint64 id = library_->add(std::move(clip));
    addRecentFile(path);
    selectClip(id);
    statusBar()->showMessage(tr("Loaded %1").arg(QFileInfo(path).fileName()), 4000);
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
    removeAction_->setEnabled(hasClip);
    analyseAction_->setEnabled(hasClip);
    variationAction_->setEnabled(hasClip);
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
    for (int i = 0; i < variations; ++i) {
        GenerationRequest r = request;
        r.settings.seed = request.settings.seed.value_or(0) + i;
        if (const Clip* source = library_->find(r.sourceClipId)) r.sourceAnalysis = source->analysis;
        generationTasks_.insert(adapter_->generate(r));
    }
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
    if (generationTasks_.contains(taskId) || (generationTasks_.isEmpty() && analysisTasks_.contains(taskId)))
        results_->setProgress(progress);
}

void MainWindow::onTaskFinished(const TaskOutcome& outcome) {
    const bool generation = generationTasks_.remove(outcome.taskId);
    const bool analysis = analysisTasks_.remove(outcome.taskId);
    if (!generation && !analysis) return;
    graphs_->addTaskTiming(outcome);
    using State = TaskOutcome::State;
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
        selectClip(library_->add(std::move(clip)));
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

void MainWindow::saveClipTo(quint64 clipId, const QString& path) {
    const Clip* clip = library_->find(clipId);
    if (!clip) return;
    statusBar()->showMessage(tr("Saving %1…").arg(QFileInfo(path).fileName()));
    adapter_->saveAudio(clip->audio, path);
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
