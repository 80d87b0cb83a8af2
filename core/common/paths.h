#pragma once
// Per-user data locations, shared by the CLI, the HTTP API and the desktop app (which reaches
// the same folder through QStandardPaths::GenericDataLocation + "/grym-synth"). No Qt here.
//
//   Linux and other Unix:  $XDG_DATA_HOME/grym-synth, or ~/.local/share/grym-synth when
//                          XDG_DATA_HOME is unset, empty or relative (as the XDG spec asks)
//   Windows:               %LOCALAPPDATA%\grym-synth
//
// The functions only compute paths; whoever writes there creates the folders.
#include <filesystem>

namespace grym {

// Root of everything grym-synth keeps per user. Throws grym::Error when the environment
// names no home folder at all (HOME / LOCALAPPDATA unset).
std::filesystem::path userDataDirectory();

// Downloaded or converted model checkpoints: userDataDirectory()/models.
std::filesystem::path modelsDirectory();

// Generation and analysis history: userDataDirectory()/history.
std::filesystem::path historyDirectory();

}  // namespace grym
