#!/usr/bin/env bash
# The two README commands, and what they stand on.
#   packaging/ftstudio.sh run    install what is missing, build, make the embedded base model, generate from it
#   packaging/ftstudio.sh test   install what is missing, build, run the whole test suite (CTest)
#   packaging/ftstudio.sh build  install what is missing and build only
# Environment: BUILD_DIR (default build), FTSTUDIO_JOBS (default: number of cores),
#              CTEST_ARGS (extra arguments for ctest, e.g. "-L unit").
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
jobs="${FTSTUDIO_JOBS:-$(nproc)}"

build_project() {
    "$here/install-deps.sh"
    if [ ! -f "$build/build.ninja" ]; then
        cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
    fi
    cmake --build "$build" -j "$jobs"
}

case "${1:-}" in
    build)
        build_project
        ;;
    run)
        build_project
        cli="$build/bin/ftstudio-cli"
        "$cli" make-base
        echo "---- generating from the embedded base model (greedy) ----"
        "$cli" generate --prompt 'Question: What is the capital of France?\nAnswer:' --max-new-tokens 24
        "$cli" generate --prompt 'The cat' --max-new-tokens 40 --temperature 0.8 --top-p 0.9 --seed 7
        ;;
    test)
        build_project
        # shellcheck disable=SC2086
        ctest --test-dir "$build" --output-on-failure -j 1 ${CTEST_ARGS:-}
        ;;
    *)
        echo "usage: $0 run|test|build" >&2
        exit 2
        ;;
esac
