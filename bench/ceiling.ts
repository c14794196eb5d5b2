// The machine's FP32 ceiling on the same run: numpy's sgemm on the same CPU
// cores, through bench/numpy_baseline.py. OPENBLAS_CORETYPE and
// OPENBLAS_L2_SIZE are set on some machines here to work around old OpenBLAS
// bugs and slow a current one; they are unset for that one child process.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export interface Ceiling {
  available: boolean;
  note: string;
  sgemm1024?: number;
  sgemm2048?: number;
}

export function measureCeiling(): Ceiling {
  const script = fileURLToPath(new URL("../../bench/numpy_baseline.py", import.meta.url));
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const run = spawnSync("python3", [script], { env, encoding: "utf8", timeout: 120_000 });
  if (run.error || run.status !== 0) return { available: false, note: "ceiling: python3 not available" };
  try {
    const result = JSON.parse(run.stdout.trim().split("\n").pop() ?? "{}");
    if (result.error) return { available: false, note: `ceiling: ${result.error}` };
    return {
      available: true,
      note: `ceiling: numpy ${result.numpy} sgemm (${result.blas})`,
      sgemm1024: result.sgemm_1024_gflops,
      sgemm2048: result.sgemm_2048_gflops,
    };
  } catch {
    return { available: false, note: "ceiling: numpy baseline printed no result" };
  }
}
