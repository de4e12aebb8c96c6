// Where the studio finds and keeps things: its data folder, the embedded base model,
// the default project, the sample datasets, and the engine binary (ftstudio-cli).
// Environment overrides (for tests and portable installs): FTSTUDIO_DATA_DIR,
// FTSTUDIO_SOURCE_DIR (a checkout: datasets/ under it), FTSTUDIO_CLI.
#pragma once

#include <QString>

namespace ft::ui {

QString dataDir();              // FTSTUDIO_DATA_DIR, else $XDG_DATA_HOME/ftstudio, else ~/.local/share/ftstudio
QString defaultBaseModelDir();  // dataDir()/models/ftstudio-tiny-base (what `ftstudio-cli make-base` builds)
QString defaultProjectPath();   // dataDir()/projects/default.db
QString runsDir();              // dataDir()/runs: output folders of runs started from the GUI
QString samplesDir();           // the sample datasets folder: $FTSTUDIO_SOURCE_DIR/datasets, the build's
                                // source tree, or <prefix>/share/ftstudio/datasets; "" when none exists
QString cliPath();              // FTSTUDIO_CLI, else ftstudio-cli beside this executable, else on PATH
bool isBaseModelFolder(const QString& dir);  // has config.json and weights

} // namespace ft::ui
