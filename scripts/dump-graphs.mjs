// Dumps the graphs and WGSL of many lowerings (3 fixture families x methods x train/eval/mixed/merge/decode, CPU and GPU profiles)
// into a folder, to check that a refactor changes no graph: node scripts/dump-graphs.mjs OUT (after npm run build), before and after, then diff -r.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
const repo = new URL("..", import.meta.url).pathname;
const root = `${repo}dist`;
const { lowerCausalLM } = await import(`${root}/compiler/graph/causal-lm.js`);
const { lowerDecode } = await import(`${root}/compiler/graph/decode.js`);
const { loadModel } = await import(`${root}/compiler/models/load.js`);
const { buildPlan } = await import(`${root}/compiler/resolve/plan.js`);
const { analyzeSpec } = await import(`${root}/compiler/spec/analyze.js`);
const out = process.argv[2];
mkdirSync(out, { recursive: true });
const cpu = { kind: "cpu", shaderF16: false, subgroups: false, maxWorkgroupStorage: 32768, maxInvocationsPerWorkgroup: 256 };
const gpu = { kind: "gpu", shaderF16: false, subgroups: false, maxWorkgroupStorage: 16384, maxInvocationsPerWorkgroup: 256 };
const specFor = (g) => {
  const T = (llama, gpt) => (g ? gpt : llama).map((t) => `target "${t}"`).join(" ");
  return {
    none: "",
    lora: `adapter a: lora { r = 4 alpha = 8 ${T(["*_proj"], ["c_attn", "c_fc", "c_proj"])} }`,
    loraembed: `adapter a: lora { r = 4 ${T(["embed_tokens", "q_proj"], ["wte", "wpe", "c_attn"])} }`,
    dora: `adapter a: lora { r = 4 use_dora = true ${T(["*_proj"], ["c_attn"])} }`,
    loha: `adapter a: loha { r = 4 ${T(["*_proj"], ["c_attn", "c_fc"])} }`,
    lokr: `adapter a: lokr { r = 4 ${T(["*_proj"], ["c_attn"])} }`,
    ia3: `adapter a: ia3 { ${T(["*_proj"], ["c_attn", "c_fc"])} }`,
    vera: `adapter a: vera { r = 8 ${T(["q_proj", "v_proj"], ["c_attn"])} }`,
    two: `adapter a: lora { r = 4 ${T(["q_proj"], ["c_attn"])} }\nadapter b: lora { r = 2 ${T(["v_proj"], ["c_fc"])} }`,
  };
};
const opt = { lr: 1e-3, weightDecay: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 1 };
let n = 0;
function dump(name, r) {
  const wgsl = [...r.wgsl.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  writeFileSync(join(out, `${name}.json`), JSON.stringify(r.graph, null, 1));
  writeFileSync(join(out, `${name}.wgsl`), wgsl.map(([k, v]) => `// ${k}\n${v}`).join("\n"));
  n++;
}
for (const m of ["tiny-llama", "tiny-gpt2", "tiny-qwen2"]) {
  const model = loadModel(`${repo}models/${m}`);
  for (const [sn, text] of Object.entries(specFor(m === "tiny-gpt2"))) {
    const spec = analyzeSpec({ path: "t.peft", text: `peft 1\n${text}\n` });
    if (!spec.ir) { console.log(m, sn, "spec", spec.diagnostics.map((d) => d.message)); continue; }
    const planned = buildPlan(spec.ir, model.tree);
    if (!planned.plan) { console.log(m, sn, "plan", planned.diagnostics.map((d) => d.message).join(";")); continue; }
    const plan = planned.plan;
    const empty = { ...plan, adapters: [] };
    for (const [dn, device] of [["cpu", cpu], ["gpu", gpu]]) {
      const base = { tree: model.tree, device };
      const tries = {
        train: () => lowerCausalLM({ ...base, plan, batch: 2, seqLen: 16, optimizer: opt, recompute: true, packedWeights: true }),
        trainplain: () => lowerCausalLM({ ...base, plan, batch: 3, seqLen: 8, optimizer: opt }),
        eval: () => lowerCausalLM({ ...base, plan, batch: 2, seqLen: 16 }),
        frozen: () => lowerCausalLM({ ...base, plan, batch: 2, seqLen: 16, optimizer: opt, backwardToInputs: true }),
        mixed: () => lowerCausalLM({ ...base, plan, batch: 2, seqLen: 16, mixed: {} }),
        mixedgen: () => lowerCausalLM({ ...base, plan, batch: 2, seqLen: 16, mixed: { generic: true } }),
        merge: () => lowerCausalLM({ ...base, plan: empty, batch: 2, seqLen: 16, merge: plan.adapters.map((a) => ({ adapter: a, scale: 1 })) }),
        decode: () => lowerDecode({ ...base, plan, batch: 2, chunk: 8, capacity: 32 }),
        decodemixed: () => lowerDecode({ ...base, plan, batch: 2, chunk: 8, capacity: 32, mixed: {} }),
        decodemerge: () => lowerDecode({ ...base, plan: empty, batch: 2, chunk: 8, capacity: 32, merge: plan.adapters.map((a) => ({ adapter: a, scale: 1 })) }),
      };
      for (const [tn, f] of Object.entries(tries)) {
        const name = `${m}.${sn}.${dn}.${tn}`;
        try { dump(name, f()); } catch (e) { writeFileSync(join(out, `${name}.error`), String(e.message)); }
      }
    }
  }
}
console.log("dumped", n);
