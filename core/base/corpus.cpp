#include "base/corpus.h"

#include "util/error.h"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace ft::base {

namespace {
std::string readWholeFile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        fail("cannot read corpus file '" + path + "'");
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}
} // namespace

std::vector<std::string> readCorpusDocuments(const std::string& path)
{
    const std::string text = readWholeFile(path);
    std::vector<std::string> docs;
    std::string current;
    std::istringstream lines(text);
    std::string line;
    auto flush = [&] {
        if (!current.empty())
            docs.push_back(current);
        current.clear();
    };
    while (std::getline(lines, line)) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (line.empty()) {
            flush();
            continue;
        }
        if (!current.empty())
            current += '\n';
        current += line;
    }
    flush();
    if (docs.empty())
        fail("corpus file '" + path + "' holds no documents (expected text blocks separated by empty lines)");
    return docs;
}

std::string fileFingerprint(const std::string& path)
{
    const std::string text = readWholeFile(path);
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : text) {
        h ^= c;
        h *= 1099511628211ull;
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

} // namespace ft::base
