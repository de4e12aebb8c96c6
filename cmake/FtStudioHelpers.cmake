# Small helpers so leaf CMakeLists stay a few lines long.

# Warnings we hold our own code to (not third-party headers).
function(ftstudio_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers)
endfunction()

# ftstudio_test_suite(name SOURCES a.cpp b.cpp LIBS ... [GUI])
# One executable holding many Qt Test files (each ends with FT_TEST_MAIN, tests/test_main.h),
# compiled in unity batches; GUI suites get a QApplication for FT_TEST_MAIN_GUI tests.
function(ftstudio_test_suite name)
  cmake_parse_arguments(S "GUI" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${S_SOURCES} ${CMAKE_SOURCE_DIR}/tests/test_runner.cpp)
  # moc reads the test files (and follows their includes into libtorch: about a minute
  # and a half for a suite); it needs nothing core builds, so it runs while core compiles.
  set_target_properties(${name} PROPERTIES AUTOMOC ON AUTOGEN_ORIGIN_DEPENDS OFF)
  target_link_libraries(${name} PRIVATE Qt6::Test ${S_LIBS})
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  if(S_GUI)
    target_compile_definitions(${name} PRIVATE FTSTUDIO_TEST_GUI)
  else()
    # Qt's `slots`/`signals`/`emit` macros break libtorch headers included after Qt's
    # (in a unity batch some always are): these suites spell them Q_SLOTS etc.
    target_compile_definitions(${name} PRIVATE QT_NO_KEYWORDS)
  endif()
  ftstudio_unity(${name})
  ftstudio_warnings(${name})
  # Test files are included into unity sources, where GCC flags every lambda that
  # captures a type of the file's anonymous namespace; that is what they are for.
  target_compile_options(${name} PRIVATE -Wno-subobject-linkage)
endfunction()

# ftstudio_add_test(name SUITE suite LABELS unit [TIMEOUT s] [CLI])
# Registers the suite's test `name` (its file's name) with CTest under the given labels,
# and links bin/<name> to the suite so the test runs on its own from the build folder.
# CLI: the test runs the ftstudio-cli binary ($FTSTUDIO_CLI).
function(ftstudio_add_test name)
  cmake_parse_arguments(T "CLI" "TIMEOUT;SUITE" "LABELS" ${ARGN})
  add_test(NAME ${name} COMMAND ${T_SUITE} ${name})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set(env "FTSTUDIO_SOURCE_DIR=${CMAKE_SOURCE_DIR}" "QT_QPA_PLATFORM=offscreen")
  if(FTSTUDIO_SANITIZE)  # ASan + UBSan run the engine about 3x slower: 4x the time, per test and per function
    math(EXPR T_TIMEOUT "${T_TIMEOUT} * 4")
    list(APPEND env "QTEST_FUNCTION_TIMEOUT=1200000")
  endif()
  if(T_CLI)
    list(APPEND env "FTSTUDIO_CLI=$<TARGET_FILE:ftstudio-cli>")
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT} ENVIRONMENT "${env}")
  add_custom_command(TARGET ${T_SUITE} POST_BUILD
                     COMMAND ${CMAKE_COMMAND} -E create_symlink $<TARGET_FILE_NAME:${T_SUITE}>
                             $<TARGET_FILE_DIR:${T_SUITE}>/${name})
endfunction()

# ftstudio_core_library(folder [DEPS lower folders...])
# core/<folder>/*.cpp as the static library ft_<folder>, unity-built (torch's headers
# are parsed once per batch instead of once per file), linked PUBLIC to the libraries
# of the folders it depends on. Every `#include "x/…"` in the folder's sources and
# headers must name the folder itself or one below it (the transitive closure of
# DEPS), or configuring fails with the file and line.
function(ftstudio_core_library folder)
  cmake_parse_arguments(L "" "" "DEPS" ${ARGN})
  set(dir ${CMAKE_CURRENT_SOURCE_DIR}/${folder})
  file(GLOB sources CONFIGURE_DEPENDS ${dir}/*.cpp)
  file(GLOB headers CONFIGURE_DEPENDS ${dir}/*.h)

  set(allowed ${folder})
  foreach(dep IN LISTS L_DEPS)
    get_property(below GLOBAL PROPERTY FT_LAYERS_${dep})
    if(NOT below)
      message(FATAL_ERROR "core/${folder}: depends on '${dep}', which is not a core library defined before it")
    endif()
    list(APPEND allowed ${below})
  endforeach()
  list(REMOVE_DUPLICATES allowed)
  set_property(GLOBAL PROPERTY FT_LAYERS_${folder} ${allowed})

  get_property(all_layers GLOBAL PROPERTY FT_ALL_LAYERS)
  foreach(file IN LISTS sources headers)
    file(STRINGS ${file} includes REGEX "^#include \"[a-z_]+/")
    foreach(line IN LISTS includes)
      string(REGEX REPLACE "^#include \"([a-z_]+)/.*" "\\1" target_folder "${line}")
      if(NOT target_folder IN_LIST allowed AND (target_folder IN_LIST all_layers OR
         EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${target_folder}))
        file(RELATIVE_PATH shown ${CMAKE_SOURCE_DIR} ${file})
        message(FATAL_ERROR "${shown}: '${line}' breaks the layering: core/${folder} may include only "
                            "${allowed} (core/CMakeLists.txt, docs/architecture.md)")
      endif()
    endforeach()
  endforeach()
  set_property(GLOBAL APPEND PROPERTY FT_ALL_LAYERS ${folder})

  add_library(ft_${folder} STATIC ${sources})
  target_include_directories(ft_${folder} PUBLIC ${CMAKE_SOURCE_DIR}/core)
  list(TRANSFORM L_DEPS PREPEND ft_ OUTPUT_VARIABLE dep_targets)
  target_link_libraries(ft_${folder} PUBLIC ${dep_targets})
  ftstudio_unity(ft_${folder})
  ftstudio_warnings(ft_${folder})
endfunction()

# Compiles a target's sources in unity batches (FTSTUDIO_UNITY_BUILD, FTSTUDIO_UNITY_BATCH).
function(ftstudio_unity target)
  set_target_properties(${target} PROPERTIES UNITY_BUILD ${FTSTUDIO_UNITY_BUILD}
                                             UNITY_BUILD_BATCH_SIZE ${FTSTUDIO_UNITY_BATCH})
endfunction()
