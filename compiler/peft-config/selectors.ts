// Our selectors and PEFT's ways of naming modules, both directions.
//
//   PEFT target_modules list entry "q_proj"  =  glob "q_proj" (suffix on a dot boundary)
//   PEFT target_modules string R (fullmatch) =  /R/
//   PEFT "all-linear"                         =  all_linear
//   PEFT rank_pattern key K, matched as re.match(rf"(.*\.)?({K})$", name)
//     = glob K when K is a plain name, else /(.*\.)?(K)/ (the same match, written out)
import type { SelectorIR } from "../spec/ir.js";
import { compileGlob, isPlainName } from "../selectors/glob.js";

/** PEFT's target_modules / exclude_modules value for a list of selectors, or why there is none. */
export function selectorsToPeftModules(selectors: SelectorIR[]): { value: string | string[] } | { problem: string } {
  if (selectors.some((s) => s.kind === "all_linear")) {
    if (selectors.length === 1) return { value: "all-linear" };
    return { problem: "all_linear cannot be combined with other selectors in a PEFT config" };
  }
  const names: string[] = [];
  for (const s of selectors) {
    if (s.kind !== "glob" || !isPlainName(s.pattern)) break;
    if (!names.includes(s.pattern)) names.push(s.pattern);
  }
  if (names.length > 0 && selectors.every((s) => s.kind === "glob" && isPlainName(s.pattern))) return { value: names };
  const regexes = selectors.map(fullMatchSource);
  return { value: regexes.length === 1 ? regexes[0]! : regexes.map((r) => `(?:${r})`).join("|") };
}

/** A Python regex that fully matches exactly the paths the selector matches. */
export function fullMatchSource(selector: SelectorIR): string {
  switch (selector.kind) {
    case "regex":
      return selector.pattern;
    case "all_linear":
      throw new Error("all_linear has no regex form");
    case "glob": {
      const compiled = compileGlob(selector.pattern);
      if (!compiled.ok) throw new Error(`invalid glob reached the PEFT writer: ${selector.pattern}`);
      return `(?:.*\\.)?(?:${compiled.regex})`;
    }
  }
}

const PATTERN_WRAPPER = /^\(\.\*\\\.\)\?\((.*)\)$/s;

/** The rank_pattern / alpha_pattern key that selects what the selector selects. */
export function selectorToPatternKey(selector: SelectorIR): string {
  if (selector.kind === "glob") {
    if (isPlainName(selector.pattern)) return selector.pattern;
    const compiled = compileGlob(selector.pattern);
    if (!compiled.ok) throw new Error(`invalid glob reached the PEFT writer: ${selector.pattern}`);
    // PEFT adds the (.*\.)? prefix itself, which is exactly a glob's suffix rule.
    return compiled.regex;
  }
  if (selector.kind === "regex") {
    const wrapped = PATTERN_WRAPPER.exec(selector.pattern);
    if (wrapped) return wrapped[1]!;
    // Anchored so that PEFT's optional prefix can only match empty: a full match.
    return `^(?:${selector.pattern})`;
  }
  throw new Error("all_linear cannot be a pattern key");
}

export function patternKeyToSelector(key: string): SelectorIR {
  if (isPlainName(key)) return { kind: "glob", pattern: key };
  return { kind: "regex", pattern: `(.*\\.)?(${key})` };
}

export function peftModulesToSelectors(value: unknown): SelectorIR[] {
  if (value === null || value === undefined) return [];
  if (value === "all-linear") return [{ kind: "all_linear" }];
  if (typeof value === "string") return [{ kind: "regex", pattern: value }];
  if (Array.isArray(value)) {
    return value.map((entry): SelectorIR => {
      const name = String(entry);
      // A list entry is matched literally (equal, or a dot-suffix); a name that is
      // not a plain glob is written as the regex with the same meaning.
      return isPlainName(name) ? { kind: "glob", pattern: name } : { kind: "regex", pattern: `(?:.*\\.)?${escapeRegex(name)}` };
    });
  }
  throw new Error(`target_modules must be a list or a string, not ${JSON.stringify(value)}`);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
