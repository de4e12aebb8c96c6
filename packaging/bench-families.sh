#!/usr/bin/env bash
# Training-step and generation throughput of one LoRA configuration on the shapes of the
# families people fine-tune (random weights, the engine's `ftstudio-cli bench`), each
# next to the same run's matmul ceiling: the figures issue 17 asks for.
#   packaging/bench-families.sh [OUT_DIR] [extra bench options, e.g. --device cuda --dtype bf16]
# Shapes: the real configs of Qwen3-0.6B, Gemma 3 1B, Phi-4-mini, OLMo 2 1B and
# SmolLM3-3B with their layers cut to 4, and Qwen3-30B-A3B's block (hidden 2048, 128
# experts of 768, top 8) with 2 layers, so a 2-core machine finishes in minutes; the
# embeddings and output head (large vocabularies) are whole, so tokens/s do not scale
# exactly inversely with the layer count.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cli="${BUILD_DIR:-$root/build}/bin/ftstudio-cli"
out="${1:-$(mktemp -d)}"
shift || true
mkdir -p "$out"
write() { mkdir -p "$out/$1"; cat > "$out/$1/config.json"; }
write qwen3-0.6b-4l <<'J'
{"architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "vocab_size": 151936, "hidden_size": 1024,
 "intermediate_size": 3072, "num_hidden_layers": 4, "num_attention_heads": 16, "num_key_value_heads": 8,
 "head_dim": 128, "max_position_embeddings": 40960, "rms_norm_eps": 1e-06, "rope_theta": 1000000,
 "tie_word_embeddings": true, "use_sliding_window": false, "bos_token_id": 151643, "eos_token_id": 151645}
J
write gemma3-1b-4l <<'J'
{"architectures": ["Gemma3ForCausalLM"], "model_type": "gemma3_text", "vocab_size": 262144, "hidden_size": 1152,
 "intermediate_size": 6912, "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 1,
 "head_dim": 256, "max_position_embeddings": 32768, "rms_norm_eps": 1e-06, "rope_theta": 1000000,
 "rope_local_base_freq": 10000, "query_pre_attn_scalar": 256, "sliding_window": 512, "sliding_window_pattern": 6,
 "hidden_activation": "gelu_pytorch_tanh", "bos_token_id": 2, "eos_token_id": [1, 106]}
J
write phi4-mini-4l <<'J'
{"architectures": ["Phi3ForCausalLM"], "model_type": "phi3", "vocab_size": 200064, "hidden_size": 3072,
 "intermediate_size": 8192, "num_hidden_layers": 4, "num_attention_heads": 24, "num_key_value_heads": 8,
 "max_position_embeddings": 131072, "original_max_position_embeddings": 4096, "partial_rotary_factor": 0.75,
 "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "sliding_window": 262144, "tie_word_embeddings": true,
 "rope_scaling": {"type": "longrope", "short_factor": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],
                  "long_factor": [2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2]},
 "bos_token_id": 199999, "eos_token_id": 199999}
J
write olmo2-1b-4l <<'J'
{"architectures": ["Olmo2ForCausalLM"], "model_type": "olmo2", "vocab_size": 100352, "hidden_size": 2048,
 "intermediate_size": 8192, "num_hidden_layers": 4, "num_attention_heads": 16, "num_key_value_heads": 16,
 "max_position_embeddings": 4096, "rms_norm_eps": 1e-06, "rope_theta": 500000, "bos_token_id": 100257, "eos_token_id": 100257}
J
write smollm3-3b-4l <<'J'
{"architectures": ["SmolLM3ForCausalLM"], "model_type": "smollm3", "vocab_size": 128256, "hidden_size": 2048,
 "intermediate_size": 11008, "num_hidden_layers": 4, "num_attention_heads": 16, "num_key_value_heads": 4,
 "max_position_embeddings": 65536, "rms_norm_eps": 1e-06, "rope_theta": 5000000.0, "no_rope_layer_interval": 4,
 "tie_word_embeddings": true, "bos_token_id": 128000, "eos_token_id": 128012}
J
write qwen3-30b-a3b-2l <<'J'
{"architectures": ["Qwen3MoeForCausalLM"], "model_type": "qwen3_moe", "vocab_size": 151936, "hidden_size": 2048,
 "intermediate_size": 6144, "moe_intermediate_size": 768, "num_experts": 128, "num_experts_per_tok": 8,
 "norm_topk_prob": true, "decoder_sparse_step": 1, "mlp_only_layers": [], "router_aux_loss_coef": 0.001,
 "num_hidden_layers": 2, "num_attention_heads": 32, "num_key_value_heads": 4, "head_dim": 128,
 "max_position_embeddings": 40960, "rms_norm_eps": 1e-06, "rope_theta": 1000000, "use_sliding_window": false,
 "tie_word_embeddings": false, "bos_token_id": 151643, "eos_token_id": 151645}
J
for m in qwen3-0.6b-4l gemma3-1b-4l phi4-mini-4l olmo2-1b-4l smollm3-3b-4l qwen3-30b-a3b-2l; do
    echo "==== $m"
    "$cli" bench --model "$out/$m" --techniques lora --batch 1 --seq-len 64 --steps 2 --gen-tokens 16 \
        --prompt-tokens 16 --rollout-prompts 0 --matmul-size 1024 "$@"
done
