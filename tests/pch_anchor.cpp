// Compiled once so that every test executable can reuse its precompiled header
// (torch, nlohmann::json and Qt Test, see tests/CMakeLists.txt): each test would
// otherwise parse the torch headers again, about 40 s a file on two cores.
