// A small command-line parser for ftstudio-cli's subcommands: --name VALUE,
// --name=VALUE, boolean flags, repeatable options, generated --help text.
// A wrong argument is a UsageError, which main() turns into exit code 2.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace ftcli {

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class ArgParser {
public:
    ArgParser(std::string command, std::string summary);

    void option(const std::string& name, const std::string& valueName, const std::string& help,
                const std::string& defaultValue = "");
    void repeatable(const std::string& name, const std::string& valueName, const std::string& help);
    void flag(const std::string& name, const std::string& help);

    // Parses argv[first..argc). Returns false when --help was asked for.
    bool parse(int argc, char** argv, int first);

    std::string usage() const;
    bool has(const std::string& name) const;  // given on the command line (or a flag set)
    std::string get(const std::string& name) const;
    std::vector<std::string> getAll(const std::string& name) const;
    int64_t getInt(const std::string& name) const;
    double getDouble(const std::string& name) const;

private:
    struct Spec {
        std::string name, valueName, help, defaultValue;
        bool isFlag = false;
        bool isRepeatable = false;
    };
    const Spec& spec(const std::string& name) const;

    std::string m_command, m_summary;
    std::vector<Spec> m_specs;
    std::map<std::string, std::vector<std::string>> m_values;
};

} // namespace ftcli
