// Where ftstudio keeps and finds things on disk: the user's data folder (the
// embedded base model's cache) and the shipped datasets/ folder.
#pragma once

#include <string>

namespace ft {

// $FTSTUDIO_DATA_DIR, else $XDG_DATA_HOME/ftstudio, else ~/.local/share/ftstudio.
std::string userDataDir();

// The folder of the embedded default base model inside userDataDir().
std::string defaultBaseModelDir();

// The shipped datasets/ folder: $FTSTUDIO_DATASETS_DIR, else next to the executable
// (../share/ftstudio/datasets when installed), else, for a program run from the build
// folder only, the source tree it was built from.
std::string datasetsDir();

// Directory holding the running executable.
std::string executableDir();

// Whether the running executable is in the build's bin/ folder (not an installed copy):
// only then may lookups fall back to the source and build trees.
bool runningFromBuildTree();

} // namespace ft
