#include "cli/arg_parser.h"

#include <cerrno>
#include <cstdlib>
#include <sstream>

namespace ftcli {

ArgParser::ArgParser(std::string command, std::string summary)
    : m_command(std::move(command)), m_summary(std::move(summary))
{
}

void ArgParser::option(const std::string& name, const std::string& valueName, const std::string& help,
                       const std::string& defaultValue)
{
    m_specs.push_back({name, valueName, help, defaultValue, false, false});
}

void ArgParser::repeatable(const std::string& name, const std::string& valueName, const std::string& help)
{
    m_specs.push_back({name, valueName, help, "", false, true});
}

void ArgParser::flag(const std::string& name, const std::string& help) { m_specs.push_back({name, "", help, "", true, false}); }

const ArgParser::Spec& ArgParser::spec(const std::string& name) const
{
    for (const Spec& s : m_specs)
        if (s.name == name)
            return s;
    throw std::logic_error("undeclared option --" + name);
}

bool ArgParser::parse(int argc, char** argv, int first)
{
    for (int i = first; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--help" || arg == "-h")
            return false;
        if (arg.rfind("--", 0) != 0)
            throw UsageError("unexpected argument '" + arg + "'");
        std::string name = arg.substr(2), value;
        bool inlineValue = false;
        if (auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name.resize(eq);
            inlineValue = true;
        }
        const Spec* s = nullptr;
        for (const Spec& candidate : m_specs)
            if (candidate.name == name)
                s = &candidate;
        if (!s)
            throw UsageError("unknown option '--" + name + "'");
        if (s->isFlag) {
            if (inlineValue)
                throw UsageError("option '--" + name + "' takes no value");
            m_values[name] = {"1"};
            continue;
        }
        if (!inlineValue) {
            if (i + 1 >= argc)
                throw UsageError("option '--" + name + "' needs a value (" + s->valueName + ")");
            value = argv[++i];
        }
        if (!s->isRepeatable && m_values.count(name))
            throw UsageError("option '--" + name + "' given twice");
        m_values[name].push_back(value);
    }
    return true;
}

std::string ArgParser::usage() const
{
    std::ostringstream out;
    out << "usage: ftstudio-cli " << m_command << " [options]\n\n" << m_summary << "\n\noptions:\n";
    for (const Spec& s : m_specs) {
        std::string left = "  --" + s.name + (s.isFlag ? "" : " " + s.valueName);
        out << left;
        out << std::string(left.size() < 30 ? 30 - left.size() : 1, ' ') << s.help;
        if (!s.defaultValue.empty())
            out << " (default: " << s.defaultValue << ")";
        if (s.isRepeatable)
            out << " (repeatable)";
        out << '\n';
    }
    out << "  --help                      show this help\n";
    return out.str();
}

bool ArgParser::has(const std::string& name) const
{
    (void)spec(name);
    return m_values.count(name) > 0;
}

std::string ArgParser::get(const std::string& name) const
{
    const Spec& s = spec(name);
    auto it = m_values.find(name);
    return it == m_values.end() ? s.defaultValue : it->second.front();
}

std::vector<std::string> ArgParser::getAll(const std::string& name) const
{
    (void)spec(name);
    auto it = m_values.find(name);
    return it == m_values.end() ? std::vector<std::string>{} : it->second;
}

int64_t ArgParser::getInt(const std::string& name) const
{
    const std::string v = get(name);
    char* end = nullptr;
    errno = 0;
    const long long parsed = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || errno == ERANGE)
        throw UsageError("option '--" + name + "' expects an integer, got '" + v + "'");
    return parsed;
}

double ArgParser::getDouble(const std::string& name) const
{
    const std::string v = get(name);
    char* end = nullptr;
    errno = 0;
    const double parsed = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || errno == ERANGE)
        throw UsageError("option '--" + name + "' expects a number, got '" + v + "'");
    return parsed;
}

} // namespace ftcli
