// The engine's event stream: one JSON object per line ("JSON Lines") on stdout or
// in a file, read live by the GUI and by scripts. Every event carries "event" (its
// type) and "time" (ISO 8601 UTC with milliseconds) next to its payload; the types
// and their fields are one table (eventTypes), which validateEvent checks against
// and docs/events.md documents. Not here: deciding when to emit (the trainer) or
// plotting (the GUI).
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace ft::train {

// started, step, eval, sample, checkpoint, paused, resumed, finished, error, log
const std::vector<std::string>& eventTypes();

// "" when `event` is a well-formed event line (after parsing), otherwise what is
// wrong: "step: missing field 'loss'", "step.memory.rss_bytes: must be an integer,
// got 1.5", "unknown event 'stpe'". Numbers may be null (a NaN or infinity written
// out); fields not in the table are allowed, so that readers ignore additions.
std::string validateEvent(const nlohmann::json& event);

// {"event": type, "time": now} followed by the payload's fields.
nlohmann::json makeEvent(const std::string& type, const nlohmann::json& payload);

// The event as one line without the newline: NaN and infinities become null,
// invalid UTF-8 (a generated sample cut mid-character) becomes U+FFFD.
std::string eventLine(const nlohmann::json& event);

// Current UTC time, "2024-05-01T12:34:56.789Z".
std::string isoTimeNow();

// Writes events, one line each, flushed as written; safe to call from several
// threads (lines never interleave). Ignores SIGPIPE process-wide, so that a reader
// that went away (a closed GUI) yields a write error instead of killing the run
// before it saves: after the first failed write, events are dropped and failed()
// says so.
class EventWriter {
public:
    // `target`: a file path (created or truncated; appended to when `append`), "-"
    // for stdout, or "" to discard every event. ft::Error when the file cannot be opened.
    explicit EventWriter(const std::string& target, bool append = false);
    ~EventWriter();
    EventWriter(const EventWriter&) = delete;
    EventWriter& operator=(const EventWriter&) = delete;

    // Called with every event (as makeEvent builds it: "event", "time", payload; NaN
    // still NaN), also when the target is "" — the CLI prints progress lines from it,
    // tests react to events. Calls are serialized; the listener may write events.
    using Listener = std::function<void(const nlohmann::json& event)>;
    void setListener(Listener listener);

    // Named write, not emit: Qt defines emit as a macro, and Qt code includes this.
    void write(const std::string& type, const nlohmann::json& payload);
    void log(const std::string& level, const std::string& message);  // debug | info | warning | error
    void error(const std::string& message, const std::string& hint = "");

    bool failed() const;
    const std::string& target() const { return m_target; }

private:
    void writeLine(const std::string& line);

    std::string m_target;
    int m_fd = -1;
    bool m_ownsFd = false;
    bool m_failed = false;
    mutable std::mutex m_mutex;  // one line at a time
    std::recursive_mutex m_listenerMutex;
    Listener m_listener;
};

} // namespace ft::train
