// main() of a test suite: finds the registered test (test_main.h) and runs it with
// the application object it needs.
#include "test_main.h"

#include <QCoreApplication>
#ifdef FTSTUDIO_TEST_GUI
#include <QApplication>
#endif

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <vector>

namespace fttest {

namespace {

struct Entry {
    AppKind kind;
    TestMain run;
};

std::map<std::string, Entry>& registry()
{
    static std::map<std::string, Entry> tests;
    return tests;
}

} // namespace

TestRegistration::TestRegistration(const char* sourceFile, AppKind kind, TestMain run)
{
    registry()[std::filesystem::path(sourceFile).stem().string()] = {kind, run};
}

int runRegisteredTest(int argc, char** argv)
{
    const auto& tests = registry();
    std::vector<char*> args{argv[0]};
    auto found = tests.find(std::filesystem::path(argv[0]).filename().string());
    int rest = 1;
    if (found == tests.end() && argc > 1) {
        found = tests.find(argv[1]);
        rest = 2;
    }
    if (found == tests.end()) {
        std::fprintf(stderr, "usage: %s TEST [Qt Test options]\ntests:", argv[0]);
        for (const auto& [name, _] : tests)
            std::fprintf(stderr, " %s", name.c_str());
        std::fprintf(stderr, "\n");
        return 2;
    }
    for (int i = rest; i < argc; ++i)
        args.push_back(argv[i]);
    args.push_back(nullptr);
    int n = int(args.size()) - 1;
    std::unique_ptr<QCoreApplication> app;
    if (found->second.kind == AppKind::Core)
        app = std::make_unique<QCoreApplication>(n, args.data());
#ifdef FTSTUDIO_TEST_GUI
    if (found->second.kind == AppKind::Gui) {
        auto gui = std::make_unique<QApplication>(n, args.data());
        gui->setAttribute(Qt::AA_Use96Dpi, true);
        app = std::move(gui);
    }
#endif
    if (found->second.kind == AppKind::Gui && !app) {
        std::fprintf(stderr, "%s needs the GUI suite\n", found->first.c_str());
        return 2;
    }
    return found->second.run(n, args.data());
}

} // namespace fttest

int main(int argc, char** argv) { return fttest::runRegisteredTest(argc, argv); }
