// Cold and warm start: the time from creating a training step's runner to the
// end of its first step, with an empty shader cache (what a new user's first
// run pays: lavapipe compiles each pipeline at its first dispatch) and then
// with the cache that run left. Each run is a child process (bench/step.js)
// with its own MESA_SHADER_CACHE_DIR, since Mesa reads it when the driver loads.
//   node dist/bench/compile.js [--hidden 256] [--json]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { StepProfile } from "./step.js";

export interface StartBench {
  model: string;
  kernels: number;
  cold: { firstStepSeconds: number; compileSeconds: number; devices: number };
  warm: { firstStepSeconds: number; compileSeconds: number };
}

const STEP = fileURLToPath(new URL("./step.js", import.meta.url));

function runStep(hidden: number, cacheDir: string): StepProfile {
  const env: NodeJS.ProcessEnv = { ...process.env, MESA_SHADER_CACHE_DIR: cacheDir };
  delete env.MESA_SHADER_CACHE_DISABLE;
  // A guard only: a cold start of the reference model takes seconds.
  const child = spawnSync(process.execPath, [STEP, "--hidden", String(hidden), "--reps", "1", "--json"], { env, encoding: "utf8", timeout: 30 * 60_000 });
  if (child.status !== 0) throw new Error(`bench/step.js --hidden ${hidden} failed (${child.signal ?? `exit ${child.status}`}):\n${child.stderr}`);
  return JSON.parse(child.stdout) as StepProfile;
}

export function startBench(hidden: number): StartBench {
  const cache = mkdtempSync(join(tmpdir(), "peftc-shader-cache-"));
  try {
    const cold = runStep(hidden, cache);
    const warm = runStep(hidden, cache);
    return {
      model: cold.model,
      kernels: cold.kernels,
      cold: { firstStepSeconds: cold.firstStepSeconds, compileSeconds: cold.compile.seconds, devices: cold.compile.devices },
      warm: { firstStepSeconds: warm.firstStepSeconds, compileSeconds: warm.compile.seconds },
    };
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

export function formatStart(s: StartBench): string {
  return [
    `${s.model}: ${s.kernels} pipelines`,
    `  cold (empty shader cache): first step ${s.cold.firstStepSeconds.toFixed(1)} s after the runner was created, of which compiling ${s.cold.compileSeconds.toFixed(1)} s on ${s.cold.devices} device(s) side by side`,
    `  warm (the cache that run left): first step ${s.warm.firstStepSeconds.toFixed(1)} s, of which preparing pipelines ${s.warm.compileSeconds.toFixed(1)} s`,
  ].join("\n");
}

const isMain = process.argv[1]?.endsWith("bench/compile.js");
if (isMain) {
  const argv = process.argv.slice(2);
  const hidden = argv.includes("--hidden") ? Number(argv[argv.indexOf("--hidden") + 1]) : 256;
  const result = startBench(hidden);
  process.stdout.write(argv.includes("--json") ? `${JSON.stringify(result, null, 2)}\n` : `${formatStart(result)}\n`);
}
