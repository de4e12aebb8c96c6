// Run bookkeeping beyond ProjectStore's core API: when a run last changed (for its
// duration), the names of the metrics it logged, and removing a run from a project
// (its metrics and evaluations go with it; its output folder on disk is not touched).
// Not here: creating runs and writing metrics (project_store.h).
#pragma once

#include "data/project_store.h"

#include <string>
#include <vector>

namespace ft::data {

std::string runUpdatedAt(const ProjectStore& store, int64_t runId);  // ISO 8601; ft::Error for an unknown run
std::vector<std::string> runMetricNames(const ProjectStore& store, int64_t runId);  // sorted
void deleteRun(ProjectStore& store, int64_t runId);  // one transaction; ft::Error for an unknown run

} // namespace ft::data
