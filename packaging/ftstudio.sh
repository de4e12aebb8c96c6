#!/usr/bin/env bash
# The two README commands, and what they stand on.
#   packaging/ftstudio.sh run         install what is missing, build, start the studio (GUI) on the embedded
#                                     default; without a display, the CLI quickstart below instead
#   packaging/ftstudio.sh test        install what is missing, build, run the whole test suite (CTest)
#   packaging/ftstudio.sh build       install what is missing and build only
#   packaging/ftstudio.sh quickstart  the same job headless: make the base model, LoRA SFT, compare
#   packaging/ftstudio.sh screenshots [DIR]  a PNG of every page of the studio, under Xvfb (default DIR: screenshots)
#   packaging/ftstudio.sh deb [DIR]   build, then the Debian package ftstudio_<version>_amd64.deb in DIR
#                                     (default: dist); docs/packaging.md
#   packaging/ftstudio.sh chaos [TRIALS] [SEED]  kill -9 a training run at random moments and during
#                                     checkpoint writes, resume it, compare with an uninterrupted run
#   packaging/ftstudio.sh chaos-project [TRIALS] [SEED]  kill -9 data import, export, dedupe, split, undo, redo
#                                     at random moments; the project must be whole, before or after
#   packaging/ftstudio.sh sanitize [LABELS]  build core, the CLI and the engine tests with ASan +
#                                     UBSan into build-asan/ and run the unit and cli labels there
#   packaging/ftstudio.sh fuzz [NAME|all] [SECONDS]  build the libFuzzer harnesses (clang, ASan + UBSan)
#                                     into build-fuzz/ and run each for SECONDS (default 60); a table
#                                     of executions and findings (tests/fuzz/README.md)
# Environment: BUILD_DIR (default build), FTSTUDIO_JOBS (default: number of cores),
#              CTEST_ARGS (extra arguments for ctest, e.g. "-L unit").
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
jobs="${FTSTUDIO_JOBS:-$(nproc)}"

# ccache (installed by install-deps.sh) keeps compiled objects between clean builds.
# Paths are taken relative to the source root and the working directory is left out of
# the hash, so another checkout reuses part of them (unity sources name absolute paths).
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}"
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"

build_project() {
    "$here/install-deps.sh"
    if [ ! -f "$build/build.ninja" ]; then
        cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
    fi
    cmake --build "$build" -j "$jobs"
}

# The fuzz build (tests/fuzz): clang with ASan + UBSan + libFuzzer, torch-free libraries only.
build_fuzz() {
    if [ ! -f "$1/build.ninja" ]; then
        CC=clang-16 CXX=clang++-16 cmake -S "$root" -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFTSTUDIO_FUZZ=ON
    fi
    cmake --build "$1" -j "$jobs"
}

case "${1:-}" in
    build)
        build_project
        ;;
    run)
        build_project
        if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
            # First start: builds the embedded base model (progress dialog) and a default
            # project with the sample datasets, then opens ready to train.
            exec "$build/bin/ftstudio"
        fi
        echo "no display (DISPLAY/WAYLAND_DISPLAY unset): running the headless quickstart instead" >&2
        exec "$0" quickstart
        ;;
    screenshots)
        build_project
        out="$(realpath -m "${2:-screenshots}")"
        "$build/bin/ftstudio-cli" make-base --corpus "$root/datasets/base_corpus"
        shots_home="$(mktemp -d)"   # a fresh data folder and settings: the first-start view
        ln -s "${FTSTUDIO_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/ftstudio}/models" "$shots_home/models" 2>/dev/null || true
        mkdir -p "$shots_home/config"
        FTSTUDIO_DATA_DIR="$shots_home" XDG_CONFIG_HOME="$shots_home/config" FTSTUDIO_SOURCE_DIR="$root" \
            xvfb-run -a -s "-screen 0 1600x1000x24" "$build/bin/ftstudio" --screenshots "$out"
        rm -rf "$shots_home"
        ;;
    quickstart)
        build_project
        cli="$build/bin/ftstudio-cli"
        "$cli" make-base
        echo "---- generating from the embedded base model (greedy) ----"
        "$cli" generate --prompt 'Question: What is the capital of France?\nAnswer:' --max-new-tokens 24
        "$cli" generate --prompt 'The cat' --max-new-tokens 40 --temperature 0.8 --top-p 0.9 --seed 7
        echo "---- fine-tuning it with LoRA on datasets/sft (instruction tuning, under a minute) ----"
        data_dir="${FTSTUDIO_DATA_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/ftstudio}"
        run_dir="$data_dir/runs/quickstart-lora-$(date +%Y%m%d-%H%M%S)"
        config="$(mktemp --suffix=.json)"
        cat > "$config" <<EOF
{"model": "$data_dir/models/ftstudio-tiny-base", "output_dir": "$run_dir",
 "technique": {"name": "lora", "r": 8, "lora_alpha": 16, "target_modules": ["all-linear"]},
 "objective": {"name": "sft", "template": "alpaca"},
 "data": {"train": "$root/datasets/sft/instructions.jsonl"},
 "training": {"max_seq_len": 128, "batch_size": 16, "epochs": 2, "optimizer": {"lr": 1e-3}},
 "eval": {"every_steps": 25}, "checkpoint": {"every_steps": 25},
 "samples": {"every_steps": 50, "prompts": ["What is 2 + 3?", "Name the capital of France."]}}
EOF
        "$cli" train --config "$config" --no-stdin
        rm -f "$config"
        echo "---- the base model, then base + the new adapter, on the same prompt ----"
        prompt='### Instruction:\nWhat is the capital of Italy?\n### Response:\n'
        "$cli" generate --prompt "$prompt" --max-new-tokens 16
        echo
        "$cli" generate --prompt "$prompt" --max-new-tokens 16 --adapter "$run_dir/adapter"
        echo
        "$cli" adapter info --adapter "$run_dir/adapter" | head -5
        ;;
    deb)
        "$here/install-deps.sh" --package
        build_project
        "$here/make-deb.sh" "$build" "${2:-$root/dist}"
        ;;
    chaos)
        build_project
        exec "$here/chaos.sh" "$build" "${2:-20}" "${3:-1}"
        ;;
    chaos-project)
        build_project
        exec "$here/chaos-project.sh" "$build" "${2:-20}" "${3:-1}"
        ;;
    fuzz)
        "$here/install-deps.sh" --fuzz
        fuzz_build="${FUZZ_BUILD_DIR:-$root/build-fuzz}"
        build_fuzz "$fuzz_build"
        name="${2:-all}"; seconds="${3:-60}"
        names=()
        for f in "$root"/tests/fuzz/fuzz_*.cpp; do
            n="$(basename "$f" .cpp)"
            [ "$name" = all ] || [ "$name" = "$n" ] || [ "$name" = "${n#fuzz_}" ] && names+=("$n")
        done
        [ ${#names[@]} -gt 0 ] || { echo "no harness named $name (tests/fuzz/fuzz_*.cpp)" >&2; exit 2; }
        mkdir -p "$fuzz_build/findings"
        status=0
        printf '%-22s %8s %12s %10s %8s  %s\n' harness seconds executions exec/s corpus result > "$fuzz_build/fuzz-table.txt"
        for n in "${names[@]}"; do
            corpus="$fuzz_build/tests/fuzz/corpus-$n"; mkdir -p "$corpus"
            log="$fuzz_build/findings/$n.log"
            echo "fuzzing $n for ${seconds}s (log: $log)" >&2
            rc=0
            "$fuzz_build/bin/$n" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
                -artifact_prefix="$fuzz_build/findings/$n-" "$corpus" "$root/tests/fuzz/corpus/$n" >"$log" 2>&1 || rc=$?
            runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
            secs="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
            result=ok; [ $rc -eq 0 ] || { result="FINDING (see $log)"; status=1; }
            printf '%-22s %8s %12s %10s %8s  %s\n' "$n" "$seconds" "${runs:-?}" "${secs:-?}" \
                "$(ls "$corpus" | wc -l)" "$result" >> "$fuzz_build/fuzz-table.txt"
        done
        cat "$fuzz_build/fuzz-table.txt"
        exit $status
        ;;
    sanitize)
        # The engine, the CLI and the engine's tests built with ASan + UBSan in their own
        # folder (no GUI), then the unit and cli labels (or LABELS) run there. Any report
        # ends the process that made it, so it fails the test; leaks too, except the ones
        # tests/sanitize/lsan.supp lists in libraries the studio does not build.
        "$here/install-deps.sh" --test
        sbuild="${SANITIZE_BUILD_DIR:-$root/build-asan}"
        if [ ! -f "$sbuild/build.ninja" ]; then
            cmake -S "$root" -B "$sbuild" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFTSTUDIO_SANITIZE=ON
        fi
        cmake --build "$sbuild" -j "$jobs"
        export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=0}"
        export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$root/tests/sanitize/lsan.supp:print_suppressions=0}"
        export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
        ctest --test-dir "$sbuild" --output-on-failure -j "$jobs" -L "${2:-unit|cli}"
        ;;
    test)
        "$here/install-deps.sh" --test
        build_project
        # shellcheck disable=SC2086
        ctest --test-dir "$build" --output-on-failure -j "$jobs" ${CTEST_ARGS:-}
        # The libFuzzer harnesses, a few seconds each on their corpus (label fuzz), in
        # their own clang build (tests/fuzz/README.md); skipped with CTEST_ARGS or without clang.
        if [ -z "${CTEST_ARGS:-}" ] && command -v clang++-16 >/dev/null; then
            build_fuzz "${FUZZ_BUILD_DIR:-$root/build-fuzz}"
            ctest --test-dir "${FUZZ_BUILD_DIR:-$root/build-fuzz}" --output-on-failure -L fuzz
        fi
        ;;
    *)
        echo "usage: $0 run|test|build|quickstart|screenshots [DIR]|deb [DIR]|fuzz [NAME] [SECONDS]|chaos [TRIALS] [SEED]|chaos-project [TRIALS] [SEED]|sanitize [LABELS]" >&2
        exit 2
        ;;
esac
