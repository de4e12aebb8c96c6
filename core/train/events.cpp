// The event table, its validator and the line writer (see events.h).
#include "train/events.h"

#include "util/error.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <regex>
#include <unistd.h>

namespace ft::train {

namespace {

using nlohmann::json;

enum class Kind {
    Integer,    // a JSON integer (counts, steps, bytes)
    Number,     // a JSON number, or null for NaN / infinity
    String,
    Bool,
    Object,     // any object; `fields` lists what it must or may hold
    NumberMap,  // an object whose values are all numbers (or null)
};

struct Field {
    Field(std::string n, Kind k, std::vector<Field> f = {}) : name(std::move(n)), kind(k), fields(std::move(f)) {}
    std::string name;
    Kind kind;
    std::vector<Field> fields;         // Object: what it must (or may) hold
    bool optional = false;
    std::vector<std::string> choices;  // String: the allowed values, when not empty
};

struct EventSpec {
    std::string type;
    std::vector<Field> fields;
};

Field optional(Field f)
{
    f.optional = true;
    return f;
}

Field oneOf(Field f, std::vector<std::string> choices)
{
    f.choices = std::move(choices);
    return f;
}

const std::vector<EventSpec>& eventTable()
{
    static const std::vector<EventSpec> table = {
        {"started",
         {{"config", Kind::Object},
          {"parameters", Kind::Object, {{"total", Kind::Integer}, {"trainable", Kind::Integer}}},
          {"device", Kind::String},
          {"dtype", Kind::String},
          {"memory_estimate",
           Kind::Object,
           {{"weights", Kind::Integer},
            {"gradients", Kind::Integer},
            {"optimizer", Kind::Integer},
            {"activations", Kind::Integer},
            {"total", Kind::Integer},
            optional({"summary", Kind::String})}},
          optional({"total_steps", Kind::Integer}),
          optional({"start_step", Kind::Integer}),
          optional({"data", Kind::Object})}},
        {"step",
         {{"step", Kind::Integer},
          {"epoch", Kind::Number},
          {"loss", Kind::Number},
          {"lr", Kind::Number},
          {"grad_norm", Kind::Number},
          {"tokens_per_second", Kind::Number},
          {"elapsed_s", Kind::Number},
          {"eta_s", Kind::Number},
          {"memory",
           Kind::Object,
           {{"rss_bytes", Kind::Integer},
            {"peak_rss_bytes", Kind::Integer},
            optional({"cuda_allocated", Kind::Integer}),
            optional({"cuda_reserved", Kind::Integer}),
            optional({"cuda_peak", Kind::Integer})}},
          optional({"metrics", Kind::NumberMap}),
          optional({"total_steps", Kind::Integer})}},
        {"eval",
         {{"step", Kind::Integer},
          {"loss", Kind::Number},
          optional({"perplexity", Kind::Number}),
          {"metrics", Kind::NumberMap}}},
        {"sample", {{"step", Kind::Integer}, {"prompt", Kind::String}, {"text", Kind::String}}},
        {"checkpoint", {{"step", Kind::Integer}, {"path", Kind::String}}},
        {"paused", {{"step", Kind::Integer}}},
        {"resumed", {{"step", Kind::Integer}}},
        {"finished",
         {oneOf({"status", Kind::String}, {"finished", "stopped"}),
          {"step", Kind::Integer},
          {"output", Kind::String},
          {"metrics", Kind::NumberMap},
          {"peak_rss_bytes", Kind::Integer},
          {"elapsed_s", Kind::Number}}},
        {"error", {{"message", Kind::String}, optional({"hint", Kind::String})}},
        {"log",
         {oneOf({"level", Kind::String}, {"debug", "info", "warning", "error"}), {"message", Kind::String}}},
    };
    return table;
}

const char* kindName(Kind k)
{
    switch (k) {
    case Kind::Integer: return "an integer";
    case Kind::Number: return "a number (or null)";
    case Kind::String: return "a string";
    case Kind::Bool: return "true or false";
    case Kind::Object: return "an object";
    case Kind::NumberMap: return "an object of numbers";
    }
    return "?";
}

bool hasKind(const json& v, Kind k)
{
    switch (k) {
    case Kind::Integer: return v.is_number_integer();
    case Kind::Number: return v.is_number() || v.is_null();
    case Kind::String: return v.is_string();
    case Kind::Bool: return v.is_boolean();
    case Kind::Object: return v.is_object();
    case Kind::NumberMap:
        if (!v.is_object())
            return false;
        for (const auto& item : v)
            if (!item.is_number() && !item.is_null())
                return false;
        return true;
    }
    return false;
}

std::string checkFields(const json& object, const std::vector<Field>& fields, const std::string& path)
{
    for (const Field& f : fields) {
        const auto it = object.find(f.name);
        if (it == object.end()) {
            if (f.optional)
                continue;
            return path + ": missing field '" + f.name + "'";
        }
        const std::string where = path + "." + f.name;
        if (!hasKind(*it, f.kind))
            return where + ": must be " + kindName(f.kind) + ", got " +
                   it->dump(-1, ' ', false, json::error_handler_t::replace);
        const auto& choices = f.choices;
        if (!choices.empty() && std::find(choices.begin(), choices.end(), it->get<std::string>()) == choices.end()) {
            std::string allowed;
            for (const std::string& c : f.choices)
                allowed += (allowed.empty() ? "" : ", ") + c;
            return where + ": must be one of " + allowed + "; got " + it->dump();
        }
        if (f.kind == Kind::Object && !f.fields.empty())
            if (std::string problem = checkFields(*it, f.fields, where); !problem.empty())
                return problem;
    }
    return "";
}

} // namespace

const std::vector<std::string>& eventTypes()
{
    static const std::vector<std::string> types = [] {
        std::vector<std::string> t;
        for (const EventSpec& e : eventTable())
            t.push_back(e.type);
        return t;
    }();
    return types;
}

std::string validateEvent(const nlohmann::json& event)
{
    if (!event.is_object())
        return "an event must be a JSON object, got " + event.dump();
    const auto type = event.find("event");
    if (type == event.end() || !type->is_string())
        return "missing field 'event' (the event type, a string)";
    const std::string name = type->get<std::string>();
    const EventSpec* spec = nullptr;
    for (const EventSpec& e : eventTable())
        if (e.type == name)
            spec = &e;
    if (!spec)
        return "unknown event '" + name + "'";
    const auto time = event.find("time");
    if (time == event.end())
        return name + ": missing field 'time'";
    static const std::regex iso(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");
    if (!time->is_string() || !std::regex_match(time->get<std::string>(), iso))
        return name + ".time: must be an ISO 8601 UTC time like 2024-05-01T12:34:56.789Z, got " + time->dump();
    return checkFields(event, spec->fields, name);
}

std::string isoTimeNow()
{
    const auto now = std::chrono::system_clock::now();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[40];
    const size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(ms % 1000));
    return text;
}

nlohmann::json makeEvent(const std::string& type, const nlohmann::json& payload)
{
    json event = payload.is_object() ? payload : json::object();
    event["event"] = type;
    event["time"] = isoTimeNow();
    return event;
}

std::string eventLine(const nlohmann::json& event)
{
    // "event" and "time" first, so a person reading the stream sees them at a glance.
    const auto dump = [](const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); };
    std::string line = "{";
    for (const char* key : {"event", "time"})
        if (const auto it = event.find(key); it != event.end())
            line += (line.size() > 1 ? "," : "") + json(key).dump() + ":" + dump(*it);
    for (const auto& [key, value] : event.items())
        if (key != "event" && key != "time")
            line += (line.size() > 1 ? "," : "") + dump(json(key)) + ":" + dump(value);
    return line + "}";
}

EventWriter::EventWriter(const std::string& target, bool append) : m_target(target)
{
    if (target.empty())
        return;
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGPIPE, &ignore, nullptr);
    if (target == "-") {
        m_fd = STDOUT_FILENO;
        return;
    }
    m_fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
    if (m_fd < 0)
        fail("cannot open events file '" + target + "' for writing: " + std::strerror(errno));
    m_ownsFd = true;
}

EventWriter::~EventWriter()
{
    if (m_ownsFd)
        ::close(m_fd);
}

void EventWriter::setListener(Listener listener)
{
    std::lock_guard lock(m_listenerMutex);
    m_listener = std::move(listener);
}

void EventWriter::write(const std::string& type, const nlohmann::json& payload)
{
    const json event = makeEvent(type, payload);
    if (m_fd >= 0)
        writeLine(eventLine(event) + "\n");
    std::lock_guard lock(m_listenerMutex);
    if (m_listener)
        m_listener(event);
}

void EventWriter::log(const std::string& level, const std::string& message)
{
    write("log", {{"level", level}, {"message", message}});
}

void EventWriter::error(const std::string& message, const std::string& hint)
{
    json payload = {{"message", message}};
    if (!hint.empty())
        payload["hint"] = hint;
    write("error", payload);
}

bool EventWriter::failed() const
{
    std::lock_guard lock(m_mutex);
    return m_failed;
}

void EventWriter::writeLine(const std::string& line)
{
    std::lock_guard lock(m_mutex);
    if (m_failed)
        return;
    if (m_fd == STDOUT_FILENO)
        std::fflush(stdout);  // anything printed through stdio/iostream goes out first, in order
    size_t written = 0;
    while (written < line.size()) {
        const ssize_t n = ::write(m_fd, line.data() + written, line.size() - written);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            m_failed = true;
            return;
        }
        written += static_cast<size_t>(n);
    }
}

} // namespace ft::train
