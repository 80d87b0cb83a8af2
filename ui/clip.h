#pragma once
// A clip in the library: audio the user dropped, opened or generated. The samples are shared
// (read-only) between the library, the player, the views and the tasks that use them.
#include "api/api_requests.h"
#include "audio/audio_buffer.h"

#include <QDateTime>
#include <QMetaType>
#include <QString>

#include <nlohmann/json.hpp>

#include <memory>

namespace grym::ui {

enum class ClipSource { File, Generated, Variation };
QString toDisplayString(ClipSource source);

struct Clip {
    quint64 id = 0;
    QString name;
    QString filePath;          // empty for generated clips that were never saved
    ClipSource source = ClipSource::File;
    QDateTime added;
    std::shared_ptr<const AudioBuffer> audio;
    nlohmann::json metrics = nlohmann::json::object();   // generation metrics, when generated
    nlohmann::json analysis;                             // null until analysed
    // The settings it was generated with (core's ClipProvenance as JSON), from the generation
    // or from inside a dropped file; null when unknown.
    nlohmann::json settings;
    QString historyPath;       // its copy in the history folder, once recorded
    // Takes: the clips one request made share a group (0: not a take) and are numbered 1..count.
    quint64 takeGroup = 0;
    int takeIndex = 0;
    int takeCount = 0;
    bool kept = false;         // marked "keep" among its takes

    double duration() const { return audio ? audio->duration() : 0.0; }
    int sampleRate() const { return audio ? audio->sampleRate : 0; }
};

// A part of a clip in seconds, [startSeconds, endSeconds): a selection in the waveform.
// A time range of a clip in seconds: the same type the API takes for inpainting.
using TimeRange = grym::ClipRange;

// "1:05.3" for 65.3 s; "0:00.0" for anything not positive.
QString formatSeconds(double seconds);

}  // namespace grym::ui

Q_DECLARE_METATYPE(grym::ui::Clip)
