// Properties of the parser and formatter over random specs (fast-check).
import fc from "fast-check";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { LineIndex, renderDiagnostic } from "../../grammar/diagnostics.js";
import { format } from "../../grammar/format.js";
import { parse } from "../../grammar/parse.js";
import { tokenize } from "../../grammar/lexer.js";
import { analyzeSpec } from "../../compiler/spec/analyze.js";
import { mutate, mutation, specText } from "../helpers/spec-arbitrary.js";

const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);

/** The AST's meaning: no spans, no comments, no layout. */
function meaning(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(meaning);
  if (node && typeof node === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (/span$/i.test(key) || ["leading", "trailing", "blankBefore", "dangling", "openComment", "raw"].includes(key)) continue;
      out[key] = meaning(value);
    }
    return out;
  }
  return node;
}

function parseOk(text: string) {
  const result = parse(text);
  if (!result.ast || result.diagnostics.some((d) => d.severity === "error" && !/unknown selector|invalid escape/.test(d.message))) {
    throw new Error(`generated spec did not parse:\n${text}\n${result.diagnostics.map((d) => d.message).join("\n")}`);
  }
  return result.ast;
}

const comments = (text: string) => tokenize(text).comments.map((c) => c.text).sort();

test("generated specs parse", () => {
  fc.assert(fc.property(specText, (text) => void parseOk(text)), { numRuns: RUNS });
});

test("fmt is idempotent", () => {
  fc.assert(
    fc.property(specText, (text) => {
      const once = format(parseOk(text));
      const twice = format(parseOk(once));
      assert.fixture(twice, once);
    }),
    { numRuns: RUNS },
  );
});

test("parse(fmt(s)) means the same as parse(s)", () => {
  fc.assert(
    fc.property(specText, (text) => {
      const ast = parseOk(text);
      assert.equal(meaning(parseOk(format(ast))), meaning(ast));
    }),
    { numRuns: RUNS },
  );
});

test("fmt keeps every comment", () => {
  fc.assert(
    fc.property(specText, (text) => {
      assert.equal(comments(format(parseOk(text))), comments(text));
    }),
    { numRuns: RUNS },
  );
});

test("random mutations of valid specs never throw: a located error or success", () => {
  fc.assert(
    fc.property(specText, mutation, (text, edits) => {
      const mutated = mutate(text, edits);
      const result = analyzeSpec({ path: "m.peft", text: mutated });
      const index = new LineIndex(mutated);
      for (const d of result.diagnostics) {
        assert.ok(d.span, `no span: ${d.message}`);
        assert.ok(d.span.start >= 0 && d.span.end <= mutated.length && d.span.start <= d.span.end, `span out of range: ${d.message}`);
        renderDiagnostic(d, { path: "m.peft", text: mutated }, index);
      }
      if (!result.ir) assert.ok(result.diagnostics.some((d) => d.severity === "error"));
    }),
    { numRuns: RUNS * 2 },
  );
});

test.run();
