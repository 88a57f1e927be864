// llama-bench's two tests through llama.cpp's own engine, for machines without a llama-bench:
// node-llama-cpp's prebuilt llama.cpp libraries (libllama + the libggml-cpu variant its CPU
// detection loads). Used by scripts/bench-vs-llamacpp.sh, which installs the pinned package.
//
//   node bench.mjs -m FILE [-p 512] [-n 128] [-r 3] [-t 2] [--fa]
//
// As llama-bench defines them: ppN is one batched evaluation of N random tokens into an empty
// cache (batch = ubatch = N), tgN is N single-token evaluations one after another; t/s = tokens /
// wall time of the test, mean and stddev over -r repetitions after one untimed warm-up run.
// Differences from llama-bench: the tokens go through node-llama-cpp's batch queue (a JS call
// and a hop to its worker thread per evaluation, tens of microseconds: about 1% of a tg step on
// the 110M models), and the cache is cleared through its sequence API between repetitions.
// Prints a JSON array shaped like llama-bench's `-o json` (n_prompt, n_gen, n_threads, avg_ts,
// stddev_ts, samples_ts), each entry also naming the llama.cpp release and the CPU variant loaded.
import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const args = process.argv.slice(2);
const opt = { m: null, p: 512, n: 128, r: 3, t: 2, fa: false };
for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "-m") opt.m = args[++i];
    else if (a === "-p") opt.p = Number(args[++i]);
    else if (a === "-n") opt.n = Number(args[++i]);
    else if (a === "-r") opt.r = Number(args[++i]);
    else if (a === "-t") opt.t = Number(args[++i]);
    else if (a === "--fa") opt.fa = true;
    else throw new Error(`unknown argument ${a}`);
}
if (!opt.m) throw new Error("usage: bench.mjs -m FILE [-p N] [-n N] [-r R] [-t T] [--fa]");

// maxThreads 0: the context's thread count is used as given, never shared out with other contexts.
const llama = await getLlama({ gpu: false, build: "never", skipDownload: true, maxThreads: 0, logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath: opt.m, gpuLayers: 0 });
const context = await model.createContext({
    contextSize: opt.p + opt.n + 8,
    batchSize: Math.max(opt.p, 1),
    threads: opt.t,
    flashAttention: opt.fa,
    sequences: 1,
});
const seq = context.getSequence();
// The vocabulary size from the file's token list (node-llama-cpp reads GGUF metadata itself).
const nVocab = model.fileInfo?.metadata?.tokenizer?.ggml?.tokens?.length || 32000;

// Random token ids as llama-bench uses (it draws them uniformly from the vocabulary).
let seed = 1234;
const rand = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed; };
const tokens = (k) => Array.from({ length: k }, () => 1 + (rand() % (nVocab - 1)));

async function pp() {
    await seq.clearHistory();
    const toks = tokens(opt.p);
    const t0 = process.hrtime.bigint();
    await seq.evaluateWithoutGeneratingNewTokens(toks);
    return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function tg() {
    await seq.clearHistory();
    const toks = tokens(opt.n);
    const t0 = process.hrtime.bigint();
    for (const tok of toks) await seq.evaluateWithoutGeneratingNewTokens([tok]);
    return Number(process.hrtime.bigint() - t0) / 1e9;
}

function result(nPrompt, nGen, secs) {
    const k = nPrompt + nGen;
    const tps = secs.map((s) => k / s);
    const mean = tps.reduce((a, b) => a + b, 0) / tps.length;
    const sd = tps.length > 1 ? Math.sqrt(tps.reduce((a, b) => a + (b - mean) ** 2, 0) / (tps.length - 1)) : 0;
    return { model_filename: opt.m, n_threads: opt.t, flash_attn: opt.fa, n_prompt: nPrompt, n_gen: nGen,
        test: nPrompt > 0 ? `pp${nPrompt}` : `tg${nGen}`, avg_ts: mean, stddev_ts: sd, samples_ts: tps };
}

const out = [];
if (opt.p > 0) {
    await pp();
    const s = [];
    for (let i = 0; i < opt.r; i++) s.push(await pp());
    out.push(result(opt.p, 0, s));
}
if (opt.n > 0) {
    await tg();
    const s = [];
    for (let i = 0; i < opt.r; i++) s.push(await tg());
    out.push(result(0, opt.n, s));
}
// Which of the libggml-cpu-*.so variants CPU detection loaded, from this process's mappings.
const maps = readFileSync("/proc/self/maps", "utf8");
const cpuVariant = [...new Set([...maps.matchAll(/libggml-cpu-([A-Za-z0-9_]+)\.so/g)].map((m) => m[1]))].join(",") || "unknown";
let build;
try {
    // the prebuilt package's own record of the llama.cpp release it was built from
    const here = path.dirname(fileURLToPath(import.meta.url));
    const meta = JSON.parse(readFileSync(path.join(here, "node_modules", "@node-llama-cpp", "linux-x64", "bins", "linux-x64", "_nlcBuildMetadata.json"), "utf8"));
    build = `${meta.buildOptions.llamaCpp.repo} ${meta.buildOptions.llamaCpp.release}`;
} catch {
    build = "unknown";
}
for (const o of out) Object.assign(o, { build: `node-llama-cpp 3.22.1 prebuilt, ${build}`, cpu_variant: cpuVariant });
console.log(JSON.stringify(out, null, 1));
await context.dispose();
await model.dispose();
await llama.dispose();
