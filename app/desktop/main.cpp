// grym-synth: the desktop application.
#include "main_window.h"

#include <QApplication>

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("grym-synth"));
    QApplication::setOrganizationName(QStringLiteral("grym-synth"));
    QApplication::setApplicationVersion(QStringLiteral(GRYM_VERSION));
    grym::ui::MainWindow window;
    window.show();
    return app.exec();
}
