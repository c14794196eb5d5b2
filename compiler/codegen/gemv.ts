// A GEMM with a few rows of A and B used transposed, C = alpha·A·Bᵀ
// (+ scale·U·op(L)) (+ bias) (+ C): decoding's linear layers (one row per
// sequence) on CPU adapters. The register-blocked GEMM walks K one scalar at
// a time and gathers each B row element by element; here every load is a
// vec4 along K (B rows are contiguous in K), so each invocation's 4 output
// columns cost a quarter of the loads. gemm() hands these shapes over.
import { ceilDiv, renderKernel, wgslF32, type BindingDecl } from "./render.js";
import type { DeviceProfile, KernelInstance } from "./types.js";

/** Rows of A (sequences) a GEMV takes at most: every row is unrolled. */
export const GEMV_MAX_ROWS = 4;

export interface GemvShape {
  M: number;
  N: number;
  K: number;
  alpha?: number;
  bias?: boolean;
  accumulate?: boolean;
  lora?: { R: number; transL: boolean; scale: number };
}

const COLS = 4;
const WG = 16;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Tensors as gemm()'s: a [M, K], b [N, K], (bias [N]), (u [M, R], l), c [M, N]. Needs K % 4 = 0. */
export function gemv(shape: GemvShape, _device: DeviceProfile): KernelInstance {
  const { M, N, K } = shape;
  if (M > GEMV_MAX_ROWS || K % 4 !== 0) throw new Error(`gemv: ${M} rows, K = ${K}`);
  const alpha = shape.alpha ?? 1;
  const rows = range(M);
  const cols = range(COLS);
  const setup = cols.map((j) => `let bRow${j} = min(n0 + ${j}u, N - 1u) * KV;`);
  const loads = [...rows.map((m) => `let a${m} = a[${m}u * KV + k];`), ...cols.map((j) => `let b${j} = b[bRow${j} + k];`)];
  const fmas = rows.flatMap((m) => cols.map((j) => `acc${m}_${j} = fma(a${m}, b${j}, acc${m}_${j});`));
  const accumulators = rows.flatMap((m) => cols.map((j) => `${m}_${j}`));
  const lora = shape.lora
    ? {
        R: shape.lora.R,
        lines: rows.flatMap((m) => cols.map((j) => {
          const at = shape.lora!.transL ? `l[min(n0 + ${j}u, N - 1u) * R + r]` : `l[r * N + min(n0 + ${j}u, N - 1u)]`;
          return `low${m}_${j} = fma(u[${m}u * R + r], ${at}, low${m}_${j});`;
        })),
      }
    : undefined;
  const stores: string[] = [];
  for (const m of rows) {
    for (const j of cols) {
      const sum = `(acc${m}_${j}.x + acc${m}_${j}.y + acc${m}_${j}.z + acc${m}_${j}.w)`;
      let value = alpha === 1 ? sum : `${wgslF32(alpha)} * ${sum}`;
      if (shape.lora) value = `${value} + ${wgslF32(shape.lora.scale)} * low${m}_${j}`;
      if (shape.bias) value = `${value} + bias[n0 + ${j}u]`;
      stores.push(`if (n0 + ${j}u < N) { c[${m}u * N + n0 + ${j}u] ${shape.accumulate ? "+=" : "="} ${value}; }`);
    }
  }
  const bindings: BindingDecl[] = [
    { name: "a", access: "read", type: "vec4f" },
    { name: "b", access: "read", type: "vec4f" },
  ];
  if (shape.bias) bindings.push({ name: "bias", access: "read", type: "f32" });
  if (shape.lora) bindings.push({ name: "u", access: "read", type: "f32" }, { name: "l", access: "read", type: "f32" });
  bindings.push({ name: "c", access: "read_write", type: "f32" });
  const spec = { M, N, K, alpha, bias: shape.bias ?? false, accumulate: shape.accumulate ?? false, lora: shape.lora };
  const kernel = renderKernel({
    family: "gemm",
    template: "gemv.wgsl.hbs",
    variant: "nt_gemv",
    reason: `${M} row${M === 1 ? "" : "s"} (decoding): vec4 loads along K, ${COLS} columns an invocation`,
    spec,
    view: { ...spec, KV: K / 4, WG, setup, loads, fmas, accumulators, lora, stores, alphaText: alpha === 1 ? "" : `${wgslF32(alpha)}·` },
    workgroupSize: [WG, 1, 1],
    bindings,
  });
  return { kernel, dispatch: [ceilDiv(ceilDiv(N, COLS), WG), 1, 1] };
}
