// fast-check generators of syntactically valid .peft text with random layout
// and comments, for the parser and formatter properties.
import fc from "fast-check";
import { allMethods } from "../../compiler/methods/registry.js";

const KEYWORDS = new Set(["peft", "model", "adapter", "train", "target", "exclude", "override", "true", "false"]);

export const name = fc.stringMatching(/^[a-z_][a-z0-9_]{0,7}$/).filter((n) => !KEYWORDS.has(n));

const stringValue = fc.string({ maxLength: 12 }).map((s) => JSON.stringify(s.replace(/[\n\r]/g, " ")));
const integer = fc.integer({ min: -1000, max: 100000 }).map(String);
const float = fc.constantFrom("0.05", "2e-4", "1.5", "-0.25", "1e3", "6e-5", "0.0", "3.14159");
const bool = fc.constantFrom("true", "false");
const range = fc.tuple(fc.nat(40), fc.nat(40)).map(([a, b]) => `${Math.min(a, b)}..${Math.max(a, b)}`);
const regex = fc.constantFrom("/q_proj/", "/.*\\.v_proj/", "/model\\.layers\\.[0-3]\\..*/", "/a\\/b/");
const call = stringValue.map((s) => `text(${s})`);

const scalar = fc.oneof(stringValue, integer, float, bool, name, regex, call);
const list = fc.array(fc.oneof(integer, range, stringValue), { maxLength: 5 }).map((items) => `[${items.join(", ")}]`);
const value = fc.oneof({ weight: 4, arbitrary: scalar }, { weight: 1, arbitrary: list }, { weight: 1, arbitrary: range });

const segment = fc.constantFrom("layers", "*", "**", "self_attn", "mlp", "{q,k,v}_proj", "[0..3]", "[1,5..7]", "q_proj", "h", "c_attn", "*_proj");
const glob = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => JSON.stringify(s.join(".")));
const selector = fc.oneof({ weight: 4, arbitrary: glob }, { weight: 1, arbitrary: regex }, { weight: 1, arbitrary: fc.constant("all_linear") });

/** Pieces of text separated by layout slots; a slot may hold spaces, newlines and comments. */
type Piece = string | { slot: true };
const SLOT: Piece = { slot: true };

const simpleAssignment = fc.tuple(name, value).map(([k, v]): Piece[] => [k, SLOT, "=", SLOT, v]);
const settingsBlock = fc.array(simpleAssignment, { maxLength: 3 }).map((items): Piece[] => ["{", SLOT, ...items.flatMap((i) => [...i, SLOT]), "}"]);

const assignment = fc.tuple(name, value, fc.option(settingsBlock, { freq: 4 })).map(([k, v, b]): Piece[] => [
  k, SLOT, "=", SLOT, v, ...(b ? [SLOT, ...b] : []),
]);
const rule = fc
  .tuple(fc.constantFrom("target", "exclude", "override"), fc.array(selector, { minLength: 1, maxLength: 3 }), fc.option(settingsBlock, { freq: 3 }))
  .map(([action, selectors, b]): Piece[] => [action, SLOT, selectors.join(", "), ...(b ? [SLOT, ...b] : [])]);

const body = fc.array(fc.oneof(assignment, rule), { maxLength: 6 }).map((items): Piece[] => ["{", SLOT, ...items.flatMap((i) => [...i, SLOT]), "}"]);
const methodName = fc.constantFrom(...allMethods().map((m) => m.name));

const model = fc.tuple(fc.constantFrom("llama", "gpt2", "auto"), fc.array(fc.tuple(name, value).map(([k, v]): Piece[] => [k, SLOT, "=", SLOT, v]), { maxLength: 2 }))
  .map(([family, items]): Piece[] => ["model", SLOT, family, SLOT, "{", SLOT, ...items.flatMap((i) => [...i, SLOT]), "}"]);
const adapter = fc.tuple(name, methodName, body).map(([n, m, b]): Piece[] => ["adapter", SLOT, n, ":", SLOT, m, SLOT, ...b]);
const train = fc.tuple(name, body).map(([n, b]): Piece[] => ["train", SLOT, n, SLOT, ...b]);

const layout = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(" ", "  ", "\n", "\n  ", "\t", "\n\n") },
  { weight: 1, arbitrary: fc.string({ maxLength: 10 }).map((c) => ` # ${c.replace(/[\n\r]/g, "")}\n`) },
  { weight: 1, arbitrary: fc.string({ maxLength: 10 }).map((c) => `\n\n# ${c.replace(/[\n\r]/g, "")}\n\n`) },
);

/** A syntactically valid spec with random layout and comments. */
export const specText = fc
  .tuple(fc.array(fc.oneof(model, adapter, train), { maxLength: 4 }), fc.infiniteStream(layout))
  .map(([items, layouts]) => {
    const pieces: Piece[] = ["peft", SLOT, "1", ...items.flatMap((i) => [SLOT, ...i]), SLOT];
    return pieces.map((p) => (typeof p === "string" ? p : layouts.next().value)).join("");
  });

/** Random edits of a text: deleted spans, inserted characters the lexer finds hard. */
export const mutation = fc.array(
  fc.tuple(fc.nat(), fc.nat(6), fc.constantFrom("", "\"", "/", "{", "}", "[", "..", "=", "#", "\u0000", "é", "\\", "\n", "1e", "-", "peft", ",")),
  { minLength: 1, maxLength: 4 },
);

export function mutate(text: string, edits: [number, number, string][]): string {
  let out = text;
  for (const [at, remove, insert] of edits) {
    const i = out.length === 0 ? 0 : at % (out.length + 1);
    out = out.slice(0, i) + insert + out.slice(i + remove);
  }
  return out;
}
