// A bundle on disk: everything the runtime needs, as plain files, written
// atomically and byte for byte the same for the same inputs.
//   bundle.json   format, compiler, spec hash, model fingerprint, adapters,
//                 phases, buffer table, kernel index, train settings
//   plan.json  graph.json  kernels/<key>.wgsl  spec.peft  peft/<adapter>.json
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeDirectoryAtomic } from "../../runtime/files/atomic.js";
import type { CompiledBundle } from "./compile.js";
import { sha256 } from "./compile.js";

export const BUNDLE_FORMAT = 1;
export const COMPILER = "peftc 0.1.0";

/** Stable JSON: two-space indent, keys in insertion order (which the compiler keeps deterministic). */
function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}

export function bundleIndex(bundle: CompiledBundle): object {
  const bytes: Record<string, number> = {};
  for (const b of bundle.graph.buffers) bytes[b.role] = (bytes[b.role] ?? 0) + b.size * 4;
  return {
    format: BUNDLE_FORMAT,
    compiler: COMPILER,
    spec: { file: "spec.peft", sha256: sha256(bundle.specText) },
    model: { path: bundle.modelPath, family: bundle.plan.model.family, modelType: bundle.plan.model.modelType, fingerprint: bundle.plan.model.fingerprint },
    plan: { file: "plan.json", fingerprint: bundle.plan.fingerprint },
    adapters: bundle.plan.adapters.map((a) => ({ name: a.name, method: a.method, trainable: a.trainable, peftConfig: bundle.peftConfigs[a.name] ? `peft/${a.name}.json` : null })),
    device: bundle.device,
    train: bundle.train ?? null,
    shape: { batch: bundle.graph.batch, seqLen: bundle.graph.seqLen },
    phases: Object.fromEntries(Object.entries(bundle.graph.phases).map(([name, ops]) => [name, ops.length])),
    buffers: { count: bundle.graph.buffers.length, bytesByRole: bytes },
    kernels: Object.values(bundle.graph.kernels).map((k) => ({ key: k.key, file: `kernels/${k.key}.wgsl`, family: k.family, variant: k.variant, reason: k.reason })),
  };
}

export function writeBundle(dir: string, bundle: CompiledBundle): void {
  writeDirectoryAtomic(dir, "bundle", (tmp) => {
    writeFileSync(join(tmp, "bundle.json"), json(bundleIndex(bundle)));
    writeFileSync(join(tmp, "plan.json"), json(bundle.plan));
    writeFileSync(join(tmp, "graph.json"), json(bundle.graph));
    writeFileSync(join(tmp, "spec.peft"), bundle.specText);
    mkdirSync(join(tmp, "kernels"));
    for (const [key, text] of [...bundle.wgsl].sort(([a], [b]) => (a < b ? -1 : 1))) writeFileSync(join(tmp, "kernels", `${key}.wgsl`), text);
    mkdirSync(join(tmp, "peft"));
    for (const [name, text] of Object.entries(bundle.peftConfigs)) writeFileSync(join(tmp, "peft", `${name}.json`), text);
  });
}
