import { diff, type DiffResult } from "../../compiler/diff/diff.js";
import { loadComparable } from "../../compiler/diff/load.js";
import { thousands } from "../../compiler/report/format.js";
import type { Io } from "../io.js";

export interface DiffOptions {
  model?: string;
  json?: boolean;
  exitCode?: boolean;
}

/** Compares specs, bundles or PEFT adapter directories; exit 0 either way unless --exit-code. */
export function diffCommand(io: Io, a: string, b: string, options: DiffOptions): number {
  const left = loadComparable(a, options.model);
  const right = loadComparable(b, options.model);
  for (const w of [...left.warnings, ...right.warnings]) io.err(`warning: ${w}`);
  const result = diff(left, right);
  io.out(options.json ? JSON.stringify(result, null, 2) : describe(result));
  return options.exitCode && result.different ? 1 : 0;
}

const show = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
const signed = (n: number) => `${n >= 0 ? "+" : "-"}${thousands(Math.abs(n))}`;

function describe(result: DiffResult): string {
  if (!result.different) return `no differences between ${result.a} and ${result.b}`;
  const out = [`--- ${result.a}`, `+++ ${result.b}`];
  for (const d of result.adapters) {
    const name = d.names ? `${d.names[0]} → ${d.names[1]}` : d.name;
    if (d.status === "added") out.push(`+ adapter ${name}${d.trainable?.[1] != null ? ` (${thousands(d.trainable[1])} trainable)` : ""}`);
    else if (d.status === "removed") out.push(`- adapter ${name}${d.trainable?.[0] != null ? ` (${thousands(d.trainable[0])} trainable)` : ""}`);
    else if (d.status === "same") out.push(`  adapter ${name}: no differences`);
    else {
      out.push(`~ adapter ${name}${d.method ? `: method ${d.method[0]} → ${d.method[1]}` : ""}`);
      for (const c of d.hyperparameters) out.push(`    ${c.key}: ${show(c.from)} → ${show(c.to)}`);
      for (const m of d.modules?.added ?? []) out.push(`  + ${m.path} (${signed(m.trainable)})`);
      for (const m of d.modules?.removed ?? []) out.push(`  - ${m.path} (${signed(-m.trainable)})`);
      for (const m of d.modules?.changed ?? []) {
        const hp = m.hyperparameters.map((c) => `${c.key} ${show(c.from)} → ${show(c.to)}`).join(", ");
        out.push(`  ~ ${m.path}: ${hp}${hp ? " " : ""}(${signed(m.trainable[1] - m.trainable[0])})`);
      }
      const [x, y] = d.trainable ?? [null, null];
      if (x !== null && y !== null) out.push(`    trainable params: ${thousands(x)} → ${thousands(y)} (${signed(y - x)})`);
    }
  }
  return out.join("\n");
}
