// The test suites' entry point: each test file ends with FT_TEST_MAIN(Class) (or the
// _GUILESS / _GUI variants, for the application object Qt Test's QTEST_*_MAIN would
// make) instead of defining main(). The file registers its class under its own file
// name ("test_safetensors"), and test_runner.cpp runs it:
//   ftstudio_tests test_safetensors [Qt Test options]   or   bin/test_safetensors [...]
// (bin/test_* are links to their suite). So many test files build as one executable in
// unity batches, and CTest still runs each on its own.
#pragma once

#include <QtTest>

#include <string>

namespace fttest {

enum class AppKind { None, Core, Gui };  // no application object, QCoreApplication, QApplication
using TestMain = int (*)(int argc, char** argv);

struct TestRegistration {
    TestRegistration(const char* sourceFile, AppKind kind, TestMain run);
};

// Runs the test named by argv[0]'s file name or else argv[1]; 2 with a usage when neither names one.
int runRegisteredTest(int argc, char** argv);

} // namespace fttest

#define FT_TEST_MAIN_KIND(TestClass, Kind)                                                                  \
    static int ftTestMain_##TestClass(int argc, char** argv)                                                \
    {                                                                                                       \
        TestClass test;                                                                                     \
        QTEST_SET_MAIN_SOURCE_PATH                                                                          \
        return QTest::qExec(&test, argc, argv);                                                             \
    }                                                                                                       \
    static const fttest::TestRegistration ftTestRegistration_##TestClass(__FILE__, fttest::AppKind::Kind,   \
                                                                         ftTestMain_##TestClass);

#define FT_TEST_MAIN(TestClass) FT_TEST_MAIN_KIND(TestClass, None)
#define FT_TEST_MAIN_GUILESS(TestClass) FT_TEST_MAIN_KIND(TestClass, Core)
#define FT_TEST_MAIN_GUI(TestClass) FT_TEST_MAIN_KIND(TestClass, Gui)
