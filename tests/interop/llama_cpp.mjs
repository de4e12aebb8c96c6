// llama.cpp's view of a GGUF file, through node-llama-cpp's prebuilt llama.cpp (CPU):
//   node llama_cpp.mjs JOB.json  ->  one JSON object on stdout
// JOB: {"model": "x.gguf", "context": 512?, "tokenize": ["text", ...]?,
//       "greedy": {"prompt": [ids], "n": 64}?, "nll": [ids]?}
// tokenize: llama.cpp's ids of each text (no BOS, special tokens as text);
// greedy: the next n ids at temperature 0 after the prompt ids;
// nll: the summed negative log-likelihood of ids[1..] given their prefixes (full vocabulary softmax).
// A test-time tool: the studio itself never runs Node.
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import { readFileSync } from "node:fs";

const job = JSON.parse(readFileSync(process.argv[2], "utf8"));
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, vramPadding: 0 });
const model = await llama.loadModel({ modelPath: job.model, gpuLayers: 0 });
const out = { model: job.model };

if (job.tokenize)
    out.tokenize = job.tokenize.map((t) => Array.from(model.tokenize(t, false)));

async function withSequence(fn) {
    const context = await model.createContext({ contextSize: job.context ?? 512, batchSize: job.context ?? 512,
                                                threads: 1, sequences: 1 });
    const sequence = context.getSequence();
    try { return await fn(sequence); } finally { await context.dispose(); }
}

if (job.greedy) {
    out.greedy = await withSequence(async (sequence) => {
        const ids = [];
        for await (const token of sequence.evaluate(job.greedy.prompt, { temperature: 0 })) {
            ids.push(token);
            if (ids.length >= job.greedy.n) break;
        }
        return ids;
    });
}

if (job.nll) {
    out.nll = await withSequence(async (sequence) => {
        const input = job.nll.map((t, i) => i + 1 < job.nll.length ? [t, { generateNext: { probabilities: true } }] : t);
        const results = await sequence.controlledEvaluate(input);
        let nll = 0;
        for (let i = 0; i + 1 < job.nll.length; ++i) {
            const p = results[i]?.next?.probabilities?.get(job.nll[i + 1]) ?? 0;
            nll -= Math.log(Math.max(p, 1e-30));
        }
        return { tokens: job.nll.length - 1, sum: nll };
    });
}

console.log(JSON.stringify(out));
await model.dispose();
await llama.dispose();
