#pragma once
// The main window over an AudioApi with the fake generator and a history folder of the test's
// own: the fixture of the history, provenance and takes tests.
#include "core_adapter.h"
#include "generation_form.h"
#include "main_window.h"

#include "support/fake_services.h"
#include "ui/ui_test_support.h"

#include <catch2/catch.hpp>

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>

#include <memory>

namespace grym::test {

struct HistoryWindow {
    std::shared_ptr<FakeGenerationService> generator = std::make_shared<FakeGenerationService>();
    std::shared_ptr<AudioApi> api = std::make_shared<AudioApi>();
    ui::CoreAdapter adapter{api};
    std::unique_ptr<ui::MainWindow> window;
    QString duration = QStringLiteral("0.5");  // seconds, what fillForm asks for

    explicit HistoryWindow(const QString& historyFolder, bool withGenerator = true) {
        QSettings().clear();
        if (withGenerator) api->addService(generator);
        window = std::make_unique<ui::MainWindow>(&adapter);
        window->setHistoryFolder(historyFolder);
        window->show();
    }
    ~HistoryWindow() {
        window.reset();
        for (QWidget* w : QApplication::topLevelWidgets())
            if (qobject_cast<QMessageBox*>(w)) w->deleteLater();
    }

    void fillForm(const QString& prompt, int takes = 1, const QString& seed = QStringLiteral("42")) {
        ui::GenerationForm* form = window->generationForm();
        form->promptEdit()->setPlainText(prompt);
        form->negativePromptEdit()->setText(QStringLiteral("hiss"));
        form->durationEdit()->setText(duration);
        form->stepsEdit()->setText(QStringLiteral("4"));
        form->guidanceEdit()->setText(QStringLiteral("3"));
        form->seedEdit()->setText(seed);
        form->seedLockBox()->setChecked(true);
        form->variationsBox()->setValue(takes);
        REQUIRE(form->isValid());
    }

    // Generates and waits until every take is in the library.
    void generate(const QString& prompt, int takes = 1, const QString& seed = QStringLiteral("42")) {
        fillForm(prompt, takes, seed);
        const int before = window->library()->count();
        window->generationForm()->generateButton()->click();
        REQUIRE(waitFor([&] { return window->library()->count() == before + takes && window->activeGenerations() == 0; }, 20000));
        REQUIRE(waitFor([&] { return allRecorded(); }));
    }

    // Every generated clip in the library has been written to the history folder.
    bool allRecorded() const {
        for (int row = 0; row < window->library()->count(); ++row) {
            const ui::Clip& clip = window->library()->at(row);
            if (clip.source != ui::ClipSource::File && clip.historyPath.isEmpty()) return false;
        }
        return true;
    }

    QAction* action(const QString& text) const {
        for (QAction* a : window->findChildren<QAction*>())
            if (a->text().remove(QLatin1Char('&')) == text) return a;
        FAIL("no action " << text.toStdString());
        return nullptr;
    }
};

}  // namespace grym::test
