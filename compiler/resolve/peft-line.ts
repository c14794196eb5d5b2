// PEFT's print_trainable_parameters line, character for character:
// f"trainable params: {trainable:,d} || all params: {all:,d} || trainable%: {100 * trainable / all:.4f}"

import { thousands } from "../report/format.js";

/**
 * Python's "{:.4f}": the double's exact decimal value rounded half to even.
 * (JavaScript's toFixed rounds exact ties up: 0.03125 gives 0.0313, Python 0.0312.)
 */
export function fixed4(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const negative = x < 0;
  // toFixed(100) is exact for doubles of this range: their binary fractions end sooner.
  const exact = Math.abs(x).toFixed(100);
  const [whole, fraction] = exact.split(".") as [string, string];
  let kept = BigInt(whole + fraction.slice(0, 4));
  const rest = fraction.slice(4);
  const half = "5" + "0".repeat(rest.length - 1);
  if (rest > half || (rest === half && kept % 2n === 1n)) kept += 1n;
  const digits = kept.toString().padStart(5, "0");
  const text = `${digits.slice(0, -4)}.${digits.slice(-4)}`;
  return negative && kept !== 0n ? `-${text}` : text;
}

export function peftLine(trainable: number, all: number): string {
  return `trainable params: ${thousands(trainable)} || all params: ${thousands(all)} || trainable%: ${fixed4((100 * trainable) / all)}`;
}
