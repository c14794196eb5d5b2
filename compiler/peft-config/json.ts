// JSON as PEFT writes adapter_config.json: Python's json.dumps(indent=2,
// sort_keys=True), with floats spelled as Python spells them and no final newline.

/** Keys whose numbers are Python floats (printed 8.0, not 8). */
export type FloatFields = ReadonlySet<string>;

export function pythonJson(value: unknown, floats: FloatFields = new Set()): string {
  return write(value, "", floats, undefined);
}

function write(value: unknown, indent: string, floats: FloatFields, key: string | undefined): string {
  if (value === null || value === undefined) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return pythonNumber(value, key !== undefined && floats.has(key));
  if (typeof value === "string") return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  const inner = indent + "  ";
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => inner + write(v, inner, floats, key)).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) return "{}";
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${write(v, inner, floats, k)}`).join(",\n")}\n${indent}}`;
}

/** Python's repr of a float: 0.0, 1e-05, 0.0001, 1e+16. */
export function pythonNumber(n: number, isFloat: boolean): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? "NaN" : n > 0 ? "Infinity" : "-Infinity";
  if (!isFloat) return String(n);
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return `${n}.0`;
  const exponent = Math.floor(Math.log10(Math.abs(n)));
  if (exponent < -4 || exponent >= 16) {
    const [mantissa, exp] = n.toExponential().split("e") as [string, string];
    const sign = exp.startsWith("-") ? "-" : "+";
    return `${mantissa}e${sign}${exp.replace(/^[+-]/, "").padStart(2, "0")}`;
  }
  return String(n);
}
