// Runs the built peftc command line as a user would.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as assert from "uvu/assert";

const bin = fileURLToPath(new URL("../../bin/peftc.js", import.meta.url));

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * A guard against a hung child, never a verdict on speed: far above what any
 * command here takes on a cold 2-core machine (PEFTC_TEST_CHILD_TIMEOUT_S to change it).
 */
const CHILD_TIMEOUT_MS = Number(process.env.PEFTC_TEST_CHILD_TIMEOUT_S ?? 900) * 1000;

export function peftc(args: string[], options: { cwd?: string; input?: string } = {}): CliResult {
  const result = spawnSync(process.execPath, [bin, ...args], {
    cwd: options.cwd,
    input: options.input,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
    timeout: CHILD_TIMEOUT_MS,
  });
  if (result.error && (result.error as NodeJS.ErrnoException).code === "ETIMEDOUT") {
    throw new Error(`peftc ${args.join(" ")} was still running after ${CHILD_TIMEOUT_MS / 1000} s and was killed (a guard against a hang; PEFTC_TEST_CHILD_TIMEOUT_S raises it)`);
  }
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** True when the text looks like a JavaScript stack trace. */
export function hasStackTrace(text: string): boolean {
  return /\n\s+at .+[(:]\d+/.test(text) || /internal error/.test(text);
}

/** `peftc eval --json`'s mean loss on a data file, with an adapter or without. */
export function evalLoss(model: string, data: string, adapter?: string): number {
  const result = peftc(["eval", "--model", model, ...(adapter ? ["--adapter", adapter] : []), "--data", data, "--json"]);
  if (result.status !== 0) throw new Error(`peftc eval failed: ${result.stderr}`);
  return (JSON.parse(result.stdout) as { loss: number }).loss;
}

/** `peftc train … --json`, which must succeed: its summary. */
export function trainJson(args: string[]): { eval_loss: number; [field: string]: unknown } {
  const result = peftc(["train", ...args, "--json"]);
  assert.is(result.status, 0, result.stderr);
  return JSON.parse(result.stdout);
}

/** The adapter a run saved, loaded back by `peftc eval`, gives the loss the run reported. */
export function assertReloadedLoss(model: string, data: string, adapter: string, reported: number): void {
  const again = evalLoss(model, data, adapter);
  assert.ok(Math.abs(again - reported) < 1e-6 * Math.max(1, reported), `the saved adapter evaluates to ${again}, the run reported ${reported}`);
}
