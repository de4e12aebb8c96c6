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
  if(FTSTUDIO_SANITIZE)  # ASan + UBSan run the engine about 3x slower: 4x the time
    math(EXPR T_TIMEOUT "${T_TIMEOUT} * 4")
  endif()
  # One limit per test, CTest's: Qt Test's own per-function limit (300 s by default)
  # would otherwise end a long end-to-end function on a slow or busy machine first. It
  # is set 30 s short of CTest's, so that Qt still prints where a hung function was.
  math(EXPR function_ms "(${T_TIMEOUT} - 30) * 1000")
  if(function_ms LESS 300000)
    set(function_ms 300000)
  endif()
  set(env "FTSTUDIO_SOURCE_DIR=${CMAKE_SOURCE_DIR}" "QT_QPA_PLATFORM=offscreen" "QTEST_FUNCTION_TIMEOUT=${function_ms}")
  if(T_CLI)
    list(APPEND env "FTSTUDIO_CLI=$<TARGET_FILE:ftstudio-cli>")
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT} ENVIRONMENT "${env}")
  add_custom_command(TARGET ${T_SUITE} POST_BUILD
                     COMMAND ${CMAKE_COMMAND} -E create_symlink $<TARGET_FILE_NAME:${T_SUITE}>
                             $<TARGET_FILE_DIR:${T_SUITE}>/${name})
endfunction()

# ftstudio_core_library(name [FOLDER folder] [FILES names...] [DEPS lower libraries...] [TORCH_FREE])
# A static library ft_<name>, unity-built (torch's headers are parsed once per batch
# instead of once per file), linked PUBLIC to the libraries it depends on. Its files
# are core/<folder>/ (folder: the name) with the listed base names (globs, .cpp and .h),
# or every file of the folder that no library defined before it took: so one folder
# may hold a torch-free library and, after it, the torch library that builds on it.
# Every `#include "x/…"` in its sources and headers must name one of its own headers
# or a header of a library below it (the transitive closure of DEPS), or configuring
# fails with the file and line. TORCH_FREE: it may include no libtorch header and
# depend only on torch-free libraries (the GUI and the fuzz harnesses link only those).
function(ftstudio_core_library name)
  cmake_parse_arguments(L "TORCH_FREE" "FOLDER" "DEPS;FILES" ${ARGN})
  if(NOT L_FOLDER)
    set(L_FOLDER ${name})
  endif()
  set(dir ${CMAKE_CURRENT_SOURCE_DIR}/${L_FOLDER})
  if(L_FILES)
    set(sources "")
    set(headers "")
    foreach(pattern IN LISTS L_FILES)
      file(GLOB s CONFIGURE_DEPENDS ${dir}/${pattern}.cpp)
      file(GLOB h CONFIGURE_DEPENDS ${dir}/${pattern}.h)
      if(NOT s AND NOT h)
        message(FATAL_ERROR "core/${L_FOLDER}: library ${name} lists '${pattern}', which matches no file")
      endif()
      list(APPEND sources ${s})
      list(APPEND headers ${h})
    endforeach()
  else()
    file(GLOB sources CONFIGURE_DEPENDS ${dir}/*.cpp)
    file(GLOB headers CONFIGURE_DEPENDS ${dir}/*.h)
  endif()
  get_property(taken GLOBAL PROPERTY FT_TAKEN_${L_FOLDER})
  if(taken)
    list(REMOVE_ITEM sources ${taken})
    list(REMOVE_ITEM headers ${taken})
  endif()
  list(REMOVE_DUPLICATES sources)
  list(REMOVE_DUPLICATES headers)
  set_property(GLOBAL APPEND PROPERTY FT_TAKEN_${L_FOLDER} ${sources} ${headers})
  foreach(h IN LISTS headers)
    get_filename_component(base ${h} NAME)
    set_property(GLOBAL PROPERTY "FT_OWNER_${L_FOLDER}/${base}" ${name})
  endforeach()

  set(allowed ${name})
  foreach(dep IN LISTS L_DEPS)
    get_property(below GLOBAL PROPERTY FT_LAYERS_${dep})
    if(NOT below)
      message(FATAL_ERROR "core library ${name}: depends on '${dep}', which is not a core library defined before it")
    endif()
    get_property(dep_torch_free GLOBAL PROPERTY FT_TORCH_FREE_${dep})
    if(L_TORCH_FREE AND NOT dep_torch_free)
      message(FATAL_ERROR "core library ${name} is torch-free but depends on ${dep}, which is not")
    endif()
    list(APPEND allowed ${below})
  endforeach()
  list(REMOVE_DUPLICATES allowed)
  set_property(GLOBAL PROPERTY FT_LAYERS_${name} ${allowed})
  set_property(GLOBAL PROPERTY FT_TORCH_FREE_${name} ${L_TORCH_FREE})
  set_property(GLOBAL PROPERTY FT_FOLDER_${name} ${L_FOLDER})

  foreach(file IN LISTS sources headers)
    file(RELATIVE_PATH shown ${CMAKE_SOURCE_DIR} ${file})
    file(STRINGS ${file} includes REGEX "^#include \"[a-z_]+/")
    foreach(line IN LISTS includes)
      string(REGEX REPLACE "^#include \"([a-z_]+/[^\"]+)\".*" "\\1" header "${line}")
      string(REGEX REPLACE "/.*" "" target_folder "${header}")
      if(NOT IS_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/${target_folder})
        continue()  # not a core header (spm_bridge's, a test's)
      endif()
      get_property(owner GLOBAL PROPERTY "FT_OWNER_${header}")
      if(header MATCHES "^[a-z_]+/.+/")  # a header in a subfolder (tokenizer/spm_bridge/): its folder's
        set(owner "")
        foreach(lib IN LISTS allowed)
          get_property(lib_folder GLOBAL PROPERTY FT_FOLDER_${lib})
          if(lib_folder STREQUAL target_folder)
            set(owner ${lib})
          endif()
        endforeach()
      endif()
      if(NOT owner IN_LIST allowed)
        message(FATAL_ERROR "${shown}: '${line}' breaks the layering: library ${name} may include only the "
                            "headers of ${allowed} (core/CMakeLists.txt, docs/architecture.md)")
      endif()
    endforeach()
    if(L_TORCH_FREE)
      file(STRINGS ${file} torch_includes REGEX "^#include <(torch|ATen|c10|caffe2)/")
      if(torch_includes)
        list(GET torch_includes 0 line)
        message(FATAL_ERROR "${shown}: '${line}': library ${name} is torch-free (core/CMakeLists.txt)")
      endif()
    endif()
  endforeach()

  add_library(ft_${name} STATIC ${sources})
  target_include_directories(ft_${name} PUBLIC ${CMAKE_SOURCE_DIR}/core)
  list(TRANSFORM L_DEPS PREPEND ft_ OUTPUT_VARIABLE dep_targets)
  target_link_libraries(ft_${name} PUBLIC ${dep_targets})
  ftstudio_unity(ft_${name})
  ftstudio_warnings(ft_${name})
endfunction()

# Compiles a target's sources in unity batches (FTSTUDIO_UNITY_BUILD, FTSTUDIO_UNITY_BATCH).
function(ftstudio_unity target)
  set_target_properties(${target} PROPERTIES UNITY_BUILD ${FTSTUDIO_UNITY_BUILD}
                                             UNITY_BUILD_BATCH_SIZE ${FTSTUDIO_UNITY_BATCH})
endfunction()
