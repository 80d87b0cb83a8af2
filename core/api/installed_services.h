#pragma once
// Creates the real model services from model folders (found as model_locations.h says) and adds
// them to an AudioApi. Models are loaded lazily (on the first task), so this is quick.
#include "api/model_locations.h"

#include <string>
#include <vector>

namespace grym {

class AudioApi;

// Returns one readable line per service: what was added, or why it was not.
std::vector<std::string> addInstalledServices(AudioApi& api, const ModelLocations& locations);

}  // namespace grym
