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
    test)
        build_project
        # shellcheck disable=SC2086
        ctest --test-dir "$build" --output-on-failure -j "$jobs" ${CTEST_ARGS:-}
        ;;
    *)
        echo "usage: $0 run|test|build" >&2
        exit 2
        ;;
esac
