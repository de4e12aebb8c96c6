#include "data/run_records.h"

#include "data/sqlite_util.h"
#include "util/error.h"

#include <sqlite3.h>

namespace ft::data {

namespace {
[[noreturn]] void unknownRun(const ProjectStore& store, int64_t runId) {
    fail("project " + store.path() + " has no run with id " + std::to_string(runId));
}
} // namespace

std::string runUpdatedAt(const ProjectStore& store, int64_t runId) {
    Statement s(store.handle(), "SELECT updated_at FROM runs WHERE id = ?1");
    s.bind(1, runId);
    if (!s.step())
        unknownRun(store, runId);
    return s.text(0);
}

std::vector<std::string> runMetricNames(const ProjectStore& store, int64_t runId) {
    Statement s(store.handle(), "SELECT DISTINCT name FROM run_metrics WHERE run_id = ?1 ORDER BY name");
    s.bind(1, runId);
    std::vector<std::string> names;
    while (s.step())
        names.push_back(s.text(0));
    return names;
}

void deleteRun(ProjectStore& store, int64_t runId) {
    store.transaction([&] {
        // Metrics and evaluations go by ON DELETE CASCADE (foreign keys are on).
        Statement s(store.handle(), "DELETE FROM runs WHERE id = ?1");
        s.bind(1, runId).run();
        if (sqlite3_changes(store.handle()) == 0)
            unknownRun(store, runId);
    });
}

} // namespace ft::data
