// Where the studio finds and keeps things: its data folder, the embedded base model,
// the default project, the sample datasets, and the engine binary (ftstudio-cli).
// Environment overrides (for tests and portable installs): FTSTUDIO_DATA_DIR,
// FTSTUDIO_SOURCE_DIR (a checkout: datasets/ under it), FTSTUDIO_DATASETS_DIR, FTSTUDIO_CLI.
// The data and datasets folders are core's (util/paths.h), so the studio and its
// engine always agree.
#pragma once

#include <QString>

namespace ft::ui {

QString dataDir();              // FTSTUDIO_DATA_DIR, else $XDG_DATA_HOME/ftstudio, else ~/.local/share/ftstudio
QString defaultBaseModelDir();  // dataDir()/models/ftstudio-tiny-base (what `ftstudio-cli make-base` builds)
QString defaultProjectPath();   // dataDir()/projects/default.ftproj (default.db where an older version made one)
QString runsDir();              // dataDir()/runs: output folders of runs started from the GUI
QString samplesDir();           // the sample datasets folder: $FTSTUDIO_SOURCE_DIR/datasets, else core's
                                // datasetsDir() (<prefix>/share/ftstudio/datasets installed); "" when none exists
QString cliPath();              // FTSTUDIO_CLI, else ftstudio-cli beside this executable, else on PATH
bool isBaseModelFolder(const QString& dir);  // has config.json and weights

// Project files: "ftproj" (the MIME type application/x-ftstudio-project, an SQLite
// database); "db" is what versions before 0.1 wrote, still opened.
inline constexpr const char* kProjectSuffix = "ftproj";
QString projectFileFilter();    // for file dialogs: "Projects (*.ftproj *.db);;All files (*)"
bool isProjectFileName(const QString& path);  // ends in .ftproj or .db

} // namespace ft::ui
