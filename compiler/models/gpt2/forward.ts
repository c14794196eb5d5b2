// The GPT-2 block: learned positions added to the token embeddings; pre-norm
// attention whose fused c_attn output is split into q, k and v; a GELU MLP.
// Its linears are Conv1D layers (weights stored [in, out]).
import { copyColumns } from "../../codegen/columns.js";
import { elementwise } from "../../codegen/elementwise.js";
import type { CausalLMLowering } from "../../graph/causal-lm.js";
import type { FamilyForward } from "../../graph/family-forward.js";

/** c_attn's [tokens, 3E] output as q, k, v [tokens, E]; the backward writes each gradient into its columns. */
function splitQkv(L: CausalLMLowering, l: number, qkv: string): [string, string, string] {
  const { g, grads, tokens } = L;
  const p = `transformer.h.${l}`;
  const E = L.input.tree.config.hiddenSize;
  const device = L.input.device;
  const parts = ["q", "k", "v"].map((name, i) => {
    const out = g.activation(`${p}.${name}`, [tokens, E]);
    const shape = { rows: tokens, width: E, inCols: 3 * E, inOffset: i * E, outCols: E, outOffset: 0 };
    g.op("forward", copyColumns(shape, device), { x: qkv, out }, `block ${l} split ${name}`);
    grads.propagate(out, [qkv]);
    return out;
  });
  L.onBackward(() => {
    if (!grads.needs(qkv)) return;
    const dqkv = grads.contribute(qkv);
    parts.forEach((part, i) => {
      const shape = { rows: tokens, width: E, inCols: E, inOffset: 0, outCols: 3 * E, outOffset: i * E };
      g.op("backward", copyColumns(shape, device), { x: grads.read(part), out: dqkv.buffer }, `block ${l} join d${["q", "k", "v"][i]}`);
    });
  });
  return parts as [string, string, string];
}

export const gpt2Forward: FamilyForward = {
  finalNorm: "transformer.ln_f",

  embed(L, ids, phase, suffix) {
    const { g, tokens } = L;
    const label = phase === "forward" ? "" : " again";
    const hidden = L.input.tree.config.hiddenSize;
    const out = L.inputSite(L.embedTokens(L.module("transformer.wte"), ids, `embed.out${suffix}`, "embed forward", phase), L.module("transformer.wte"));
    // Declared before the position ids, as the forward always has: graphs keep their buffer order.
    g.activation(`embed.positions${suffix}`, [tokens, hidden]);
    const pos = L.embedTokens(L.module("transformer.wpe"), L.positionIds(), `embed.positions${suffix}`, "wpe forward", phase);
    if (phase === "forward") return L.residual(out, pos, "embed.sum", "embed + positions");
    const sum = g.activation(`embed.sum${suffix}`, [tokens, hidden]);
    g.op(phase, elementwise({ op: "add" }, tokens * hidden, L.input.device), { a: out, b: pos, out: sum }, `embed + positions${label}`);
    return sum;
  },

  block(L, l, x) {
    const p = `transformer.h.${l}`;
    const n1 = L.norm(`${p}.ln_1`, x, `${p}.n1`);
    const qkv = L.linear(`${p}.attn.c_attn`, n1, `${p}.qkv`);
    const [q, k, v] = splitQkv(L, l, qkv);
    const a = L.attention(l, q, k, v);
    const o = L.linear(`${p}.attn.c_proj`, a, `${p}.o`);
    const mid = L.residual(x, o, `${p}.mid`, `block ${l} residual`);
    const n2 = L.norm(`${p}.ln_2`, mid, `${p}.n2`);
    // Gradient checkpointing: a frozen MLP's c_fc output (and the normed input it reads) is made again in the backward.
    const f = L.linear(`${p}.mlp.c_fc`, n2, `${p}.fc`, { recomputeInBackward: L.recomputable([`${p}.mlp.c_fc`, `${p}.mlp.c_proj`]) });
    const h = L.gelu(f, `${p}.h`, l);
    const down = L.linear(`${p}.mlp.c_proj`, h, `${p}.down`);
    return L.residual(mid, down, `${p}.out`, `block ${l} residual`);
  },
};
