// The peer of `ftstudio-cli bench`'s decode figure: llama.cpp (node-llama-cpp's prebuilt
// CPU build, as tests/interop installs it) greedy-decoding a GGUF at batch 1 after a prompt,
// timed from the first generated token to the last (the prompt's prefill left out, as the
// studio's "decode" line leaves it out), end-of-generation tokens decoded through like any
// other. A benchmark tool; the studio never runs it.
//   node peer_decode.mjs FILE.gguf --prompt-tokens 32 --tokens 64 --threads 2
// prints one JSON line: {"tokens_per_second", "tokens"}.
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

const args = process.argv.slice(2);
const option = (name, fallback) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : fallback;
};
const file = args[0];
const promptTokens = option("--prompt-tokens", 32), tokens = option("--tokens", 64), threads = option("--threads", 2);

const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, vramPadding: 0 });
const model = await llama.loadModel({ modelPath: file, gpuLayers: 0 });
const context = await model.createContext({ contextSize: 512, batchSize: 512, threads, sequences: 1 });
const sequence = context.getSequence();
// A prompt of ordinary ids (not special ones): 100, 101, ... (any vocabulary of 600 or more).
const prompt = Array.from({ length: promptTokens }, (_, i) => 100 + (i % 500));
let count = 0, first = 0, last = 0;
for await (const token of sequence.evaluate(prompt, { temperature: 0, yieldEogToken: true })) {
    void token;
    const now = performance.now();
    if (count === 0) first = now;
    last = now;
    if (++count >= tokens) break;
}
await context.dispose();
console.log(JSON.stringify({ tokens_per_second: (count - 1) / ((last - first) / 1000), tokens: count }));
process.exit(0);
