// `peftc inspect --svg`: a heatmap of trainable parameters, blocks × module
// roles, with the modules outside the blocks in a row of their own.
import type { ModelTree } from "../models/types.js";
import type { Plan } from "../resolve/plan-types.js";
import { thousands } from "./format.js";

const CELL_W = 56;
const CELL_H = 22;
const LEFT = 90;

function colour(fraction: number): string {
  // White to a deep blue, on a square-root scale so small adapters stay visible.
  const t = Math.sqrt(Math.max(0, Math.min(1, fraction)));
  const mix = (a: number, b: number) => Math.round(a + (b - a) * t);
  return `rgb(${mix(247, 8)},${mix(251, 48)},${mix(255, 107)})`;
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function heatmapSvg(plan: Plan, tree: ModelTree, title: string): string {
  const perModule = new Map<string, number>();
  for (const adapter of plan.adapters) {
    for (const m of adapter.modules) perModule.set(m.path, (perModule.get(m.path) ?? 0) + m.trainable);
  }
  const roles = [...new Set(tree.modules.filter((m) => m.layer !== null).map((m) => m.role))];
  const outside = tree.modules.filter((m) => m.layer === null);
  const columns = Math.max(roles.length, outside.length);
  const max = Math.max(1, ...perModule.values());
  // Column labels are drawn at 45°: leave room for the longest above and to the right.
  const labelRoom = Math.ceil(Math.max(...roles.map((r) => r.length), 4) * 6 * Math.SQRT1_2);
  const TOP = 56 + labelRoom;
  const width = Math.max(LEFT + columns * CELL_W + labelRoom, 560);
  const height = TOP + (tree.config.layers + 2) * CELL_H + 80;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">${escape(title)}</text>`,
    `<text x="10" y="38">trainable parameters per module: ${escape(plan.totals.peftLine)}</text>`,
  ];
  roles.forEach((role, c) => {
    const x = LEFT + c * CELL_W + CELL_W / 2;
    out.push(`<text transform="translate(${x},${TOP - 6}) rotate(-45)">${escape(role)}</text>`);
  });
  const cell = (x: number, y: number, path: string | undefined) => {
    const value = path ? perModule.get(path) ?? 0 : 0;
    const fill = path ? colour(value / max) : "#eee";
    out.push(`<rect x="${x}" y="${y}" width="${CELL_W - 2}" height="${CELL_H - 2}" fill="${fill}" stroke="#ccc"><title>${escape(path ?? "")}: ${thousands(value)}</title></rect>`);
    if (value > 0) out.push(`<text x="${x + 3}" y="${y + 14}" fill="${value / max > 0.4 ? "white" : "black"}" font-size="9">${thousands(value)}</text>`);
  };
  for (let layer = 0; layer < tree.config.layers; layer++) {
    const y = TOP + layer * CELL_H;
    out.push(`<text x="10" y="${y + 14}">block ${layer}</text>`);
    roles.forEach((role, c) => cell(LEFT + c * CELL_W, y, tree.modules.find((m) => m.layer === layer && m.role === role)?.path));
  }
  const y = TOP + (tree.config.layers + 1) * CELL_H;
  outside.forEach((m, c) => {
    out.push(`<text transform="translate(${LEFT + c * CELL_W + 4},${y + CELL_H + 12}) rotate(30)" font-size="9">${escape(m.role)}</text>`);
    cell(LEFT + c * CELL_W, y, m.path);
  });
  out.push(`<text x="10" y="${y + 14}">outside</text>`);
  const legendY = height - 18;
  for (let i = 0; i <= 10; i++) out.push(`<rect x="${LEFT + i * 14}" y="${legendY - 10}" width="14" height="10" fill="${colour(i / 10)}"/>`);
  out.push(`<text x="10" y="${legendY}">scale</text>`, `<text x="${LEFT + 160}" y="${legendY}">0 to ${thousands(max)} per module</text>`, "</svg>");
  return out.join("\n") + "\n";
}
