// LoHa's own kernels: the small elementwise and Khatri-Rao steps between the
// GEMMs (which come from codegen/gemm.ts); the per-row dropout factors come
// from methods/lycoris.
// Notation: A1 = hada_w1_a (out, r), B1 = hada_w1_b (r, in), A2 = hada_w2_a,
// B2 = hada_w2_b; P1 = A1·B1, P2 = A2·B2 (out, in); R = r².
//   Khatri-Rao factors: Akr[o, j·r+k] = d[o]·A1[o,j]·A2[o,k]   (out, R)
//                       Bkr[j·r+k, i] = B1[j,i]·B2[k,i]         (R, in)
// so that Akr·Bkr = diag(d)·(P1 ⊙ P2): the update through an R-wide
// low-rank product, never materialised.
import { ceilDiv, renderKernel, wgslF32, type BindingDecl } from "../../codegen/render.js";
import type { KernelInstance } from "../../codegen/types.js";

// Templates live beside this file; the renderer resolves them from codegen/templates/.
const TEMPLATES = "../../methods/loha/templates/";
const WG = 64;

export interface LohaDims {
  inFeatures: number;
  outFeatures: number;
  r: number;
}

/** What each elementwise variant computes. `d` is the optional per-row dropout factor. */
export type LohaElementwise =
  /** Weff = W + s·d[o]·P1⊙P2 (the materialised path's effective weight). */
  | { op: "weight"; scale: number; rowScale: boolean }
  /** W += c·P1⊙P2 in place (merge, and unmerge with −c). */
  | { op: "merge"; scale: number }
  /** In place: P1 ← c·d[o]·G⊙P2, P2 ← c·d[o]·G⊙P1 (the Hadamard product's backward). */
  | { op: "hadamard_backward"; scale: number; rowScale: boolean }
  | { op: "kr_a"; rowScale: boolean }
  | { op: "kr_b" }
  /** grad_w1a[o,j] += d[o]·Σ_k dAkr[o, j·r+k]·A2[o,k] (and a2 with the roles swapped). */
  | { op: "kr_grad_a1"; rowScale: boolean }
  | { op: "kr_grad_a2"; rowScale: boolean }
  /** grad_w1b[j,i] += Σ_k dBkr[j·r+k, i]·B2[k,i] (and b2 with the roles swapped). */
  | { op: "kr_grad_b1" }
  | { op: "kr_grad_b2" };

interface Def {
  math: string;
  per: string;
  count: number;
  inputs: string[];
  outputs: string[];
  vec: boolean;
  consts: string[];
  body: string[];
}

const read = (name: string): BindingDecl => ({ name, access: "read", type: "f32" });

function define(op: LohaElementwise, { inFeatures: I, outFeatures: O, r }: LohaDims): Def {
  const R = r * r;
  const dims = [`IN = ${I}u`, `R = ${r}u`, `RR = ${R}u`];
  // The Hadamard ops walk (out, in) in vec4 when rows hold whole vec4s (every lane then shares a row).
  const vec = I % 4 === 0;
  const V = vec ? 4 : 1;
  const rowOf = `let o = (i * ${V}u) / IN;`;
  const d = (on: boolean) => (on ? " * d[o]" : "");
  switch (op.op) {
    case "weight":
      return {
        math: `Weff = W + ${op.scale}·${op.rowScale ? "d[o]·" : ""}P1⊙P2`, per: vec ? "4 weights of a row" : "weight", count: (O * I) / V, vec,
        inputs: ["W", "P1", "P2", ...(op.rowScale ? ["d"] : [])], outputs: ["Weff"], consts: [...dims, `S = ${wgslF32(op.scale)}`],
        body: [...(op.rowScale ? [rowOf] : []), `Weff[i] = W[i] + (S${d(op.rowScale)}) * (P1[i] * P2[i]);`],
      };
    case "merge":
      return {
        math: `W += ${op.scale}·P1⊙P2`, per: vec ? "4 weights" : "weight", count: (O * I) / V, vec,
        inputs: ["P1", "P2"], outputs: ["W"], consts: [`S = ${wgslF32(op.scale)}`],
        body: ["W[i] += S * (P1[i] * P2[i]);"],
      };
    case "hadamard_backward":
      return {
        math: `P1 ← ${op.scale}·${op.rowScale ? "d[o]·" : ""}G⊙P2, P2 ← ${op.scale}·${op.rowScale ? "d[o]·" : ""}G⊙P1 (in place)`,
        per: vec ? "4 weights of a row" : "weight", count: (O * I) / V, vec,
        inputs: ["G", ...(op.rowScale ? ["d"] : [])], outputs: ["P1", "P2"], consts: [...dims, `S = ${wgslF32(op.scale)}`],
        body: [...(op.rowScale ? [rowOf] : []), `let g = (S${d(op.rowScale)}) * G[i];`, "let p1 = P1[i];", "P1[i] = g * P2[i];", "P2[i] = g * p1;"],
      };
    case "kr_a":
      return {
        math: `Akr[o, j·r+k] = ${op.rowScale ? "d[o]·" : ""}A1[o,j]·A2[o,k]`, per: "element of Akr", count: O * R, vec: false,
        inputs: ["A1", "A2", ...(op.rowScale ? ["d"] : [])], outputs: ["Akr"], consts: dims,
        body: ["let o = i / RR;", "let jk = i % RR;", `Akr[i] = A1[o * R + jk / R] * A2[o * R + jk % R]${d(op.rowScale)};`],
      };
    case "kr_b":
      return {
        math: "Bkr[j·r+k, i] = B1[j,i]·B2[k,i]", per: "element of Bkr", count: R * I, vec: false,
        inputs: ["B1", "B2"], outputs: ["Bkr"], consts: dims,
        body: ["let jk = i / IN;", "let c = i % IN;", "Bkr[i] = B1[(jk / R) * IN + c] * B2[(jk % R) * IN + c];"],
      };
    case "kr_grad_a1":
    case "kr_grad_a2": {
      // a1: i = o·r + j, summing over k; a2: i = o·r + k, summing over j.
      const first = op.op === "kr_grad_a1";
      return {
        math: first ? "grad_A1[o,j] += d[o]·Σ_k dAkr[o,j·r+k]·A2[o,k]" : "grad_A2[o,k] += d[o]·Σ_j dAkr[o,j·r+k]·A1[o,j]",
        per: "element of the gradient", count: O * r, vec: false,
        inputs: ["dAkr", "other", ...(op.rowScale ? ["d"] : [])], outputs: ["grad"], consts: dims,
        body: [
          "let o = i / R;", "let a = i % R;", "var sum = 0.0;",
          "for (var b = 0u; b < R; b++) {",
          `  sum = fma(dAkr[o * RR + ${first ? "a * R + b" : "b * R + a"}], other[o * R + b], sum);`,
          "}",
          `grad[i] += sum${d(op.rowScale)};`,
        ],
      };
    }
    case "kr_grad_b1":
    case "kr_grad_b2": {
      const first = op.op === "kr_grad_b1";
      return {
        math: first ? "grad_B1[j,i] += Σ_k dBkr[j·r+k,i]·B2[k,i]" : "grad_B2[k,i] += Σ_j dBkr[j·r+k,i]·B1[j,i]",
        per: "element of the gradient", count: r * I, vec: false,
        inputs: ["dBkr", "other"], outputs: ["grad"], consts: dims,
        body: [
          "let a = i / IN;", "let c = i % IN;", "var sum = 0.0;",
          "for (var b = 0u; b < R; b++) {",
          `  sum = fma(dBkr[(${first ? "a * R + b" : "b * R + a"}) * IN + c], other[b * IN + c], sum);`,
          "}",
          "grad[i] += sum;",
        ],
      };
    }
  }
}

/** One LoHa elementwise step; `reason` says which forward path it serves and why (shown by inspect). */
export function lohaElementwise(op: LohaElementwise, dims: LohaDims, reason: string): KernelInstance {
  const def = define(op, dims);
  const T = def.vec ? "vec4f" : "f32";
  // Row factors and the Khatri-Rao operands stay scalar arrays.
  const typeOf = (name: string) => (def.vec && name !== "d" ? T : "f32");
  const bindings: BindingDecl[] = [
    ...def.inputs.map((name) => ({ ...read(name), type: typeOf(name) })),
    ...def.outputs.map((name) => ({ name, access: "read_write" as const, type: typeOf(name) })),
  ];
  const groups = ceilDiv(def.count, WG);
  const gx = Math.min(groups, 65535);
  const spec = { ...op, ...dims };
  const kernel = renderKernel({
    family: "loha",
    template: `${TEMPLATES}loha.wgsl.hbs`,
    variant: op.op + ("rowScale" in op && op.rowScale ? "_dropout" : ""),
    reason,
    spec,
    view: { variant: op.op, math: def.math, per: def.per, count: def.count, consts: def.consts, body: def.body, WG, gx },
    workgroupSize: [WG, 1, 1],
    bindings,
  });
  return { kernel, dispatch: [gx, ceilDiv(groups, gx), 1] };
}

