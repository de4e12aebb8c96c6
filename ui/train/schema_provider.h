// The run-config schema the Train page's form is built from (schema_form.h): the
// engine's own description of a run config, train::runConfigSchema() (each section's
// settings, the technique and objective descriptors), the same JSON `ftstudio-cli
// train --schema` prints. Core's run_config library is torch-free, so the studio reads
// it in-process: no engine process is needed before the form can be shown.
#pragma once

#include <QJsonObject>

namespace ft::ui {

// Built once per process.
const QJsonObject& runConfigSchema();

} // namespace ft::ui
