#include "clip.h"

#include <cmath>

namespace grym::ui {

QString toDisplayString(ClipSource source) {
    switch (source) {
        case ClipSource::File: return QObject::tr("file");
        case ClipSource::Generated: return QObject::tr("generated");
        case ClipSource::Variation: return QObject::tr("variation");
    }
    return {};
}

QString formatSeconds(double seconds) {
    if (!(seconds > 0.0)) seconds = 0.0;
    const int tenths = static_cast<int>(std::lround(seconds * 10.0));
    const int minutes = tenths / 600;
    const double rest = (tenths % 600) / 10.0;
    return QStringLiteral("%1:%2").arg(minutes).arg(rest, 4, 'f', 1, QLatin1Char('0'));
}

}  // namespace grym::ui
