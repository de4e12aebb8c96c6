#!/usr/bin/env bash
# The studio's training step next to PyTorch eager's on the same shapes, in one
# invocation, interleaved (studio, PyTorch, studio, PyTorch ...), each figure the median
# of --runs runs, with their ratio (issue 25). The peer is bench_peers/peer_train.py:
# Hugging Face's Llama equations and PEFT's LoRA in plain PyTorch (Debian's python3-torch,
# the same libtorch 1.13 the studio links), timed like `ftstudio-cli bench`: random ids,
# one warm-up step, then the mean of --steps AdamW steps.
#   packaging/bench-peers.sh [--runs 3] [--steps 8] [--threads 2] [--techniques lora,full]
# (SHAPES="embedded" for one shape, SHAPES="" for the decode table alone). Fewer steps
# than 8 leave the ratio to a 2-core machine's noise: 3 steps gave 0.76x where 10 steps
# gave 0.97x on the same shape.
# Shapes: "35m" (hidden 512, 8 layers, 8 heads, MLP 1408, vocabulary 8000) and "embedded"
# (the embedded base recipe: hidden 192, 4 layers, 6 heads / 2 KV heads, MLP 512,
# vocabulary 2048); batch 4 x sequence 256.
# Then greedy decoding at batch 1 (32 prompt tokens, 64 new) of a real model folder
# (BASE=DIR, default: the embedded base, else build/gui-test-model) exported to an f32
# GGUF, the studio's `bench` decode figure next to llama.cpp's (node-llama-cpp, from
# build/interop, which `ctest -L interop` installs), at 1 and at 2 threads.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cli="${BUILD_DIR:-$root/build}/bin/ftstudio-cli"
# Debian's interpreter, which python3-torch installs into (not a pyenv one earlier on PATH).
python="${PYTHON:-/usr/bin/python3}"
runs=3 steps=8 threads=2 techniques=lora,full batch=4 seq=256
while [[ $# -gt 0 ]]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --steps) steps="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        --techniques) techniques="$2"; shift 2 ;;
        *) echo "unknown option $1 (see the header of $0)" >&2; exit 2 ;;
    esac
done
[[ -x "$cli" ]] || { echo "no $cli: build first (packaging/ftstudio.sh build)" >&2; exit 1; }
"$python" -c "import torch" 2>/dev/null || { echo "the peer needs PyTorch: apt-get install python3-torch" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/35m" "$work/embedded"
cat > "$work/35m/config.json" <<'J'
{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 8000, "hidden_size": 512,
 "intermediate_size": 1408, "num_hidden_layers": 8, "num_attention_heads": 8, "num_key_value_heads": 8,
 "max_position_embeddings": 1024, "rms_norm_eps": 1e-06, "rope_theta": 10000.0, "tie_word_embeddings": false,
 "bos_token_id": 1, "eos_token_id": 2}
J
cat > "$work/embedded/config.json" <<'J'
{"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 2048, "hidden_size": 192,
 "intermediate_size": 512, "num_hidden_layers": 4, "num_attention_heads": 6, "num_key_value_heads": 2,
 "head_dim": 32, "max_position_embeddings": 512, "rms_norm_eps": 1e-05, "rope_theta": 10000.0,
 "tie_word_embeddings": false, "bos_token_id": 1, "eos_token_id": 2}
J

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)}'; }

echo "training step: batch $batch x seq $seq, AdamW, LoRA r 16 on all linear layers; $threads threads;" \
     "median of $runs interleaved runs of $steps steps each"
"$python" -c "import torch; print('peer: PyTorch', torch.__version__, 'eager')"
printf '%-10s %-10s %14s %14s %8s %10s\n' shape technique "studio tok/s" "PyTorch tok/s" ratio "studio MFU"
IFS=, read -r -a list <<< "$techniques"
for shape in ${SHAPES-35m embedded}; do
    for technique in "${list[@]}"; do
        : > "$work/studio" ; : > "$work/peer" ; : > "$work/mfu"
        for ((i = 0; i < runs; ++i)); do
            out="$("$cli" bench --model "$work/$shape" --batch "$batch" --seq-len "$seq" --steps "$steps" \
                    --techniques "$technique" --gen-tokens 1 --prompt-tokens 1 --rollout-prompts 0 --threads "$threads")"
            row="$(awk -v t="$technique" '$1 == t && NF >= 9 {print}' <<< "$out" | tail -1)"
            [[ -n "$row" ]] || { echo "no '$technique' row in the studio's bench output:" >&2; echo "$out" >&2; exit 1; }
            # lora 217.1 K 9.0 MiB 0.081 3159 30.8 54.6% ...: tokens/s and MFU after the step seconds
            awk '{for (i = 1; i <= NF; ++i) if ($i ~ /%$/) {print $(i - 2); exit}}' <<< "$row" >> "$work/studio"
            awk '{for (i = 1; i <= NF; ++i) if ($i ~ /%$/) {sub("%", "", $i); print $i; exit}}' <<< "$row" >> "$work/mfu"
            "$python" "$root/packaging/bench_peers/peer_train.py" "$work/$shape/config.json" --batch "$batch" \
                --seq-len "$seq" --steps "$steps" --technique "$technique" --threads "$threads" \
                | python3 -c "import json, sys; print(json.load(sys.stdin)['tokens_per_second'])" >> "$work/peer"
        done
        s="$(median < "$work/studio")" p="$(median < "$work/peer")" m="$(median < "$work/mfu")"
        printf '%-10s %-10s %14.0f %14.0f %7.2fx %9.1f%%\n' "$shape" "$technique" "$s" "$p" \
            "$(awk -v s="$s" -v p="$p" 'BEGIN {print s / p}')" "$m"
    done
done
[[ -s "$work/studio" ]] && echo "per-run figures: studio $(tr '\n' ' ' < "$work/studio")| PyTorch $(tr '\n' ' ' < "$work/peer")(last row)"

# ---- greedy decoding at batch 1 against llama.cpp ----
base="${BASE:-$HOME/.local/share/ftstudio/models/ftstudio-tiny-base}"
[[ -f "$base/model.safetensors" ]] || base="${BUILD_DIR:-$root/build}/gui-test-model"
modules="${BUILD_DIR:-$root/build}/interop/node_modules"
if [[ ! -f "$base/model.safetensors" || ! -d "$modules/node-llama-cpp" ]] || ! command -v node > /dev/null; then
    echo "decode against llama.cpp skipped: needs a base model folder (BASE=DIR or ftstudio-cli make-base), Node.js" \
         "and node-llama-cpp in $modules (ctest -L interop installs it)"
    exit 0
fi
ln -s "$modules" "$work/node_modules"  # the peer script resolves node-llama-cpp from its own folder
cp "$root/packaging/bench_peers/peer_decode.mjs" "$work/"
"$cli" export gguf --model "$base" --out "$work/base.gguf" --type f32 > /dev/null 2>&1
echo
echo "greedy decode, batch 1, 32 prompt tokens then 64 new, f32 weights of $base; median of $runs interleaved runs"
printf '%-8s %14s %16s %8s\n' threads "studio tok/s" "llama.cpp tok/s" ratio
for t in 1 2; do
    : > "$work/studio" ; : > "$work/peer"
    for ((i = 0; i < runs; ++i)); do
        "$cli" bench --model "$base" --techniques none --rollout-prompts 0 --gen-tokens 64 --prompt-tokens 32 \
            --threads "$t" 2> /dev/null | awk '$1 == "decode" {print $2}' >> "$work/studio"
        node "$work/peer_decode.mjs" "$work/base.gguf" --prompt-tokens 32 --tokens 64 --threads "$t" \
            | "$python" -c "import json, sys; print(json.load(sys.stdin)['tokens_per_second'])" >> "$work/peer"
    done
    s="$(median < "$work/studio")" p="$(median < "$work/peer")"
    printf '%-8s %14.0f %16.0f %7.2fx\n' "$t" "$s" "$p" "$(awk -v s="$s" -v p="$p" 'BEGIN {print s / p}')"
done
echo "(on a 2-core machine llama.cpp at 2 threads spent about 15 ms per token on a model it decodes in about" \
     "1 ms at 1 thread: compare the 1-thread row)"
