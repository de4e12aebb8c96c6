#!/usr/bin/env bash
# kill -9 anywhere: trains a small LoRA SFT run once without interruption, then N more
# times with SIGKILL at a seeded random moment (odd trials) or the instant a checkpoint
# is being written (even trials: a checkpoint-N.tmp-PID folder exists), resumes each
# with --resume until it finishes, and checks that the final adapter is byte-for-byte the
# uninterrupted one. Prints a table; exits 1 when any trial differs.
#   packaging/chaos.sh BUILD_DIR [TRIALS] [SEED]       (packaging/ftstudio.sh chaos runs it)
set -euo pipefail

build="$(realpath "$1")"; trials="${2:-20}"; seed="${3:-1}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cli="$build/bin/ftstudio-cli"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
RANDOM=$seed
# Every checkpoint file is followed by a 150 ms pause (core/train/checkpoint.cpp), so the
# kills of even trials land inside a write; timing only, the numbers are unchanged.
export FTSTUDIO_CHAOS_CHECKPOINT_PAUSE_MS="${FTSTUDIO_CHAOS_CHECKPOINT_PAUSE_MS:-150}"

base="$build/gui-test-model"
if [ ! -f "$base/model.safetensors" ]; then
    base="$work/base"
    "$cli" make-base --out "$base" --steps 30 --threads 1 --corpus "$root/datasets/base_corpus" >/dev/null 2>&1
fi

config() {  # OUTPUT_DIR
    cat > "$work/$(basename "$1").json" <<JSON
{"model": "$base", "output_dir": "$1",
 "technique": {"name": "lora", "r": 8, "lora_alpha": 16, "target_modules": ["all-linear"]},
 "objective": {"name": "sft", "template": "alpaca"},
 "data": {"train": "$root/datasets/sft/instructions.jsonl", "eval_fraction": 0.05},
 "training": {"max_seq_len": 96, "batch_size": 8, "max_steps": 40, "threads": 1, "seed": 7,
              "optimizer": {"lr": 1e-3}},
 "eval": {"every_steps": 20}, "checkpoint": {"every_steps": 4, "keep_last": 2}}
JSON
    echo "$work/$(basename "$1").json"
}

start=$(date +%s.%N)
"$cli" train --config "$(config "$work/reference")" --no-stdin --quiet
reference_seconds=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
ref="$work/reference/adapter/adapter_model.safetensors"
echo "uninterrupted run: 40 steps in ${reference_seconds}s"

printf '%-6s %-34s %-12s %-9s %-12s %s\n' trial "killed" "checkpoints" resumes "final step" "adapter = uninterrupted"
failures=0
for ((t = 1; t <= trials; ++t)); do
    out="$work/trial-$t"
    cfg="$(config "$out")"
    "$cli" train --config "$cfg" --no-stdin --quiet >/dev/null 2>&1 &
    pid=$!
    if ((t % 2 == 1)); then
        delay=$(awk -v s="$reference_seconds" -v r="$((RANDOM % 90 + 5))" 'BEGIN { printf "%.2f", s * r / 100 }')
        sleep "$delay"
        how="at ${delay}s"
    else
        # While a checkpoint is being written (its .tmp folder exists), the 1st..5th one,
        # after a seeded 0-400 ms into it (before, between or after its files).
        nth=$((RANDOM % 5 + 1)); seen=0; how="checkpoint write (none)"
        while kill -0 "$pid" 2>/dev/null; do
            tmp="$(compgen -G "$out/checkpoint-*.tmp-*" | head -1 || true)"
            if [ -n "$tmp" ]; then
                seen=$((seen + 1))
                if ((seen >= nth)); then
                    into=$((RANDOM % 400))
                    sleep "$(awk -v m="$into" 'BEGIN { printf "%.3f", m / 1000 }')"
                    how="writing $(basename "$tmp" | sed 's/\.tmp-.*//') +${into}ms"
                    break
                fi
                while [ -e "$tmp" ]; do sleep 0.002; done
            fi
            sleep 0.002
        done
    fi
    kill -9 "$pid" 2>/dev/null || how="$how (already done)"
    if ((t % 2 == 0)) && [ -n "${tmp:-}" ]; then  # did the kill land inside the write?
        if [ -e "$tmp" ]; then how="$how, cut"; else how="$how, done first"; fi
    fi
    wait "$pid" 2>/dev/null || true
    checkpoints="$( (ls -d "$out"/checkpoint-[0-9]* 2>/dev/null || true) | (grep -v '\.tmp-\|\.old-' || true) |
        sed 's/.*checkpoint-//' | sort -n | tr '\n' ',' | sed 's/,$//')"
    resumes=0
    until [ -f "$out/adapter/adapter_model.safetensors" ]; do
        resumes=$((resumes + 1))
        if ((resumes > 3)) || ! "$cli" train --config "$cfg" --resume --no-stdin --quiet >"$work/resume-$t.log" 2>&1; then
            echo "trial $t: resume failed:"; tail -3 "$work/resume-$t.log"; break
        fi
    done
    final="$( (cat "$out"/checkpoint-*/trainer_state.json 2>/dev/null || true) |
        sed -n 's/.*"global_step": *\([0-9]*\).*/\1/p' | sort -n | tail -1)"
    if cmp -s "$ref" "$out/adapter/adapter_model.safetensors"; then same=yes; else same=NO; failures=$((failures + 1)); fi
    printf '%-6s %-34s %-12s %-9s %-12s %s\n' "$t" "$how" "${checkpoints:-none}" "$resumes" "${final:-?}" "$same"
    rm -rf "$out"
done
echo "$((trials - failures))/$trials trials ended with the uninterrupted run's adapter"
((failures == 0))
