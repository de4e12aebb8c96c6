// The adapters the project's runs trained, as the Compare, Label and Evaluate pages
// offer them next to the base model: every finished run whose adapter folder exists.
#pragma once

#include <QString>

#include <vector>

namespace ft::ui {

class Session;

struct TrainedAdapter {
    QString runName;
    QString dir;  // absolute: <output_dir>/adapter
    qint64 runId = 0;
};

// In the project's order of runs; empty without a project.
std::vector<TrainedAdapter> trainedAdapters(Session& session);

} // namespace ft::ui
