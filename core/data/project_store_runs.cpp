// ProjectStore run records: training runs, their metric curves, evaluations and the
// blind A/B votes of the compare view. Written by the GUI (from the engine's events);
// none of it is part of the row edit history. Not here: rows or datasets.
#include "data/project_store.h"

#include "data/project_store_state.h"

#include <sqlite3.h>

namespace ft::data {

namespace {

void checkJson(const std::string& text, const std::string& what) {
    if (!nlohmann::json::accept(text))
        fail(what + " is not valid JSON");
}

} // namespace

int64_t ProjectStore::createRun(const std::string& name, const std::string& configJson, const std::string& outputDir) {
    checkJson(configJson, "the config of run '" + name + "'");
    const std::string now = nowIso8601();
    Statement& s = m_state->statement("INSERT INTO runs(name, config_json, status, output_dir, created_at, updated_at) "
                                      "VALUES (?1, ?2, 'created', ?3, ?4, ?4)");
    StatementReset r(s);
    s.bind(1, name).bind(2, configJson).bind(3, outputDir).bind(4, now).run();
    return sqlite3_last_insert_rowid(m_db);
}

void ProjectStore::setRunStatus(int64_t runId, const std::string& status) {
    static const char* const kStatuses[] = {"created", "running", "finished", "failed", "stopped"};
    bool known = false;
    for (const char* s : kStatuses)
        known = known || status == s;
    if (!known)
        fail("unknown run status '" + status + "' (expected created, running, finished, failed or stopped)");
    Statement& s = m_state->statement("UPDATE runs SET status = ?2, updated_at = ?3 WHERE id = ?1");
    StatementReset r(s);
    s.bind(1, runId).bind(2, status).bind(3, nowIso8601()).run();
    if (sqlite3_changes(m_db) == 0)
        fail("project " + m_path + " has no run with id " + std::to_string(runId));
}

std::vector<RunRecord> ProjectStore::runs() const {
    Statement& s =
        m_state->statement("SELECT id, name, config_json, status, output_dir, created_at FROM runs ORDER BY id");
    StatementReset r(s);
    std::vector<RunRecord> out;
    while (s.step())
        out.push_back({s.int64(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5)});
    return out;
}

void ProjectStore::addMetric(int64_t runId, int64_t step, const std::string& name, double value) {
    // REPLACE: a run resumed from a checkpoint logs its steps again.
    Statement& s = m_state->statement("INSERT OR REPLACE INTO run_metrics(run_id, name, step, value) "
                                      "VALUES (?1, ?2, ?3, ?4)");
    StatementReset r(s);
    try {
        s.bind(1, runId).bind(2, name).bind(3, step).bind(4, value).run();
    } catch (const SqliteError& e) {
        if (e.code() == SQLITE_CONSTRAINT)
            fail("project " + m_path + " has no run with id " + std::to_string(runId));
        throw;
    }
}

std::vector<std::pair<int64_t, double>> ProjectStore::metric(int64_t runId, const std::string& name) const {
    Statement& s =
        m_state->statement("SELECT step, value FROM run_metrics WHERE run_id = ?1 AND name = ?2 ORDER BY step");
    StatementReset r(s);
    s.bind(1, runId).bind(2, name);
    std::vector<std::pair<int64_t, double>> out;
    while (s.step())
        out.emplace_back(s.int64(0), s.real(1));
    return out;
}

int64_t ProjectStore::addVote(const std::string& prompt, const std::string& modelA, const std::string& modelB,
                              const std::string& winner) {
    if (winner != "a" && winner != "b" && winner != "tie")
        fail("a vote's winner must be a, b or tie (got '" + winner + "')");
    Statement& s = m_state->statement(
        "INSERT INTO votes(prompt, model_a, model_b, winner, created_at) VALUES (?1, ?2, ?3, ?4, ?5)");
    StatementReset r(s);
    s.bind(1, prompt).bind(2, modelA).bind(3, modelB).bind(4, winner).bind(5, nowIso8601()).run();
    return sqlite3_last_insert_rowid(m_db);
}

std::vector<VoteRecord> ProjectStore::votes() const {
    Statement& s =
        m_state->statement("SELECT id, prompt, model_a, model_b, winner, created_at FROM votes ORDER BY id");
    StatementReset r(s);
    std::vector<VoteRecord> out;
    while (s.step())
        out.push_back({s.int64(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5)});
    return out;
}

int64_t ProjectStore::addEvaluation(std::optional<int64_t> runId, const std::string& name,
                                    const std::string& resultJson) {
    checkJson(resultJson, "the result of evaluation '" + name + "'");
    Statement& s = m_state->statement(
        "INSERT INTO evaluations(run_id, name, result_json, created_at) VALUES (?1, ?2, ?3, ?4)");
    StatementReset r(s);
    if (runId)
        s.bind(1, *runId);
    try {
        s.bind(2, name).bind(3, resultJson).bind(4, nowIso8601()).run();
    } catch (const SqliteError& e) {
        if (e.code() == SQLITE_CONSTRAINT)
            fail("project " + m_path + " has no run with id " + std::to_string(runId.value_or(0)));
        throw;
    }
    return sqlite3_last_insert_rowid(m_db);
}

std::vector<EvaluationRecord> ProjectStore::evaluations() const {
    Statement& s =
        m_state->statement("SELECT id, run_id, name, result_json, created_at FROM evaluations ORDER BY id");
    StatementReset r(s);
    std::vector<EvaluationRecord> out;
    while (s.step()) {
        EvaluationRecord e{s.int64(0), std::nullopt, s.text(2), s.text(3), s.text(4)};
        if (!s.isNull(1))
            e.runId = s.int64(1);
        out.push_back(std::move(e));
    }
    return out;
}

} // namespace ft::data
