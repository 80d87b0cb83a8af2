#include "theme.h"

#include <QApplication>
#include <QPalette>
#include <QStyleFactory>

namespace grym::ui {

void applyTheme(QApplication& app) {
    app.setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
    const QColor window(0x26, 0x2a, 0x31), base(0x1b, 0x1e, 0x23), text(0xe6, 0xe8, 0xeb);
    const QColor accent(0x4e, 0xa1, 0xff), muted(0x8a, 0x8f, 0x98);
    QPalette p;
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, QColor(0x22, 0x25, 0x2b));
    p.setColor(QPalette::ToolTipBase, QColor(0x33, 0x37, 0x40));
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::PlaceholderText, muted);
    p.setColor(QPalette::Button, QColor(0x31, 0x36, 0x3e));
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, Qt::white);
    p.setColor(QPalette::Highlight, accent);
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Link, accent);
    p.setColor(QPalette::Mid, QColor(0x3a, 0x3f, 0x48));
    p.setColor(QPalette::Dark, QColor(0x15, 0x17, 0x1b));
    for (auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
        p.setColor(QPalette::Disabled, role, QColor(0x6b, 0x70, 0x78));
    p.setColor(QPalette::Disabled, QPalette::Button, QColor(0x2b, 0x2f, 0x36));
    app.setPalette(p);
    app.setStyleSheet(QStringLiteral(
        "QDockWidget { titlebar-close-icon: none; font-weight: 600; }"
        "QDockWidget::title { background: #1f232a; padding: 6px 8px; border-bottom: 1px solid #3a3f48; }"
        "QToolBar { background: #1f232a; border: none; border-bottom: 1px solid #3a3f48; spacing: 4px; padding: 3px; }"
        "QStatusBar { background: #1f232a; border-top: 1px solid #3a3f48; }"
        "QPushButton { padding: 5px 12px; border-radius: 4px; border: 1px solid #3a3f48; background: #31363e; }"
        "QPushButton:hover:enabled { background: #3a404a; }"
        "QPushButton:default:enabled { background: #2f6fd0; border-color: #4ea1ff; color: white; }"
        "QPushButton:default:hover:enabled { background: #3a80e6; }"
        "QLineEdit, QPlainTextEdit, QSpinBox, QComboBox { padding: 3px; border-radius: 3px; border: 1px solid #3a3f48; background: #1b1e23; }"
        "QLineEdit:focus, QPlainTextEdit:focus { border-color: #4ea1ff; }"
        "QHeaderView::section { background: #262a31; padding: 4px; border: none; border-bottom: 1px solid #3a3f48; }"
        "QProgressBar { border: 1px solid #3a3f48; border-radius: 4px; background: #1b1e23; text-align: center; }"
        "QProgressBar::chunk { background: #2f6fd0; border-radius: 3px; }"
        "QTableView, QTreeView { border: 1px solid #2f343c; selection-background-color: #2f6fd0; }"));
}

}  // namespace grym::ui
