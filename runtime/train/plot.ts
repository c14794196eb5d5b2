// The loss curve as an SVG a person can open: training loss per logged step,
// evaluation loss as points, axes with round ticks.

export interface CurvePoint {
  step: number;
  loss: number;
}

const W = 720;
const H = 400;
const M = { left: 64, right: 20, top: 40, bottom: 48 };

function niceTicks(min: number, max: number, count: number): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;");
}

export function lossCurveSvg(title: string, train: CurvePoint[], evaluation: CurvePoint[] = []): string {
  const points = [...train, ...evaluation].filter((p) => Number.isFinite(p.loss));
  const maxStep = Math.max(1, ...points.map((p) => p.step));
  const losses = points.map((p) => p.loss);
  let low = Math.min(...losses, Number.POSITIVE_INFINITY);
  let high = Math.max(...losses, Number.NEGATIVE_INFINITY);
  if (!Number.isFinite(low)) [low, high] = [0, 1];
  if (high - low < 1e-9) [low, high] = [low - 0.5, high + 0.5];
  const pad = (high - low) * 0.05;
  low = Math.max(0, low - pad);
  high += pad;
  const x = (step: number) => M.left + (step / maxStep) * (W - M.left - M.right);
  const y = (loss: number) => H - M.bottom - ((loss - low) / (high - low)) * (H - M.top - M.bottom);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${M.left}" y="22" font-size="14" font-weight="bold">${escape(title)}</text>`,
  ];
  for (const t of niceTicks(low, high, 6)) {
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(t)}" y2="${y(t)}" stroke="#eee"/>`);
    out.push(`<text x="${M.left - 6}" y="${y(t) + 4}" text-anchor="end">${t}</text>`);
  }
  for (const t of niceTicks(0, maxStep, 8)) {
    out.push(`<line x1="${x(t)}" x2="${x(t)}" y1="${H - M.bottom}" y2="${H - M.bottom + 5}" stroke="#444"/>`);
    out.push(`<text x="${x(t)}" y="${H - M.bottom + 18}" text-anchor="middle">${t}</text>`);
  }
  out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#444"/>`);
  out.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="#444"/>`);
  out.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 10}" text-anchor="middle">optimizer step</text>`);
  out.push(`<text transform="translate(16,${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">loss</text>`);
  const line = train.filter((p) => Number.isFinite(p.loss)).map((p, i) => `${i === 0 ? "M" : "L"}${x(p.step).toFixed(1)},${y(p.loss).toFixed(1)}`).join(" ");
  if (line) out.push(`<path d="${line}" fill="none" stroke="#1f77b4" stroke-width="1.5"/>`);
  for (const p of evaluation.filter((q) => Number.isFinite(q.loss))) {
    out.push(`<circle cx="${x(p.step).toFixed(1)}" cy="${y(p.loss).toFixed(1)}" r="4" fill="#d62728"><title>eval loss ${p.loss.toFixed(4)} at step ${p.step}</title></circle>`);
  }
  out.push(`<line x1="${W - 190}" x2="${W - 170}" y1="${M.top}" y2="${M.top}" stroke="#1f77b4" stroke-width="2"/><text x="${W - 165}" y="${M.top + 4}">train loss</text>`);
  if (evaluation.length) out.push(`<circle cx="${W - 180}" cy="${M.top + 18}" r="4" fill="#d62728"/><text x="${W - 165}" y="${M.top + 22}">eval loss</text>`);
  out.push("</svg>");
  return out.join("\n") + "\n";
}
