#pragma once
// Which Hugging Face repo feeds each model service, remembered in the settings as
// "models/<service>" = "ORG/NAME" (e.g. "models/audioldm" = "cvssp/audioldm-s-full-v2"). The
// Model Manager writes it when a download finishes or a recommended model is found in the cache;
// the app passes it to core as ModelLocations::audioldm / wav2vec2 when it registers the services.
#include <QString>

namespace grym::ui {

// Empty when no repo was chosen for `service` ("audioldm", "wav2vec2").
QString chosenModelRepo(const QString& service);
void setChosenModelRepo(const QString& service, const QString& repoId);

}  // namespace grym::ui
