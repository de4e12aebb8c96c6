// The studio's version: one place, the CMake project version (CMakeLists.txt),
// shown by `ftstudio-cli --version`, `ftstudio --version`, the About dialog and
// written into the Debian package.
#pragma once

namespace ft {

// "MAJOR.MINOR.PATCH", e.g. "0.2.0".
const char* version();

} // namespace ft
