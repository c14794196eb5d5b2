// Globs over Hugging Face module paths, compiled to regular expressions.
//
//   .          separates path segments
//   *          a whole segment: any one segment; inside a segment: any characters but '.'
//   **         any number of whole segments, including none
//   ?          one character other than '.'
//   {a,b}      alternatives (which may themselves contain globs and dots)
//   [0..15]    a decimal integer in a range; [0..3,8..12], [5] and [1,3] too
//
// A glob matches a module path when it matches the whole path or a suffix that
// starts after a '.', so "q_proj" means what PEFT's target_modules=["q_proj"] means.

export interface GlobError {
  message: string;
  /** Offset into the pattern where the problem is. */
  offset: number;
  length: number;
}

export type GlobResult = { ok: true; regex: string } | { ok: false; error: GlobError };

// Ranges are written out as alternations; beyond this a glob is a mistake.
const MAX_RANGE_SPAN = 100_000;

const LITERAL = /[A-Za-z0-9_\-]/;

/** The glob's regex body G; a path matches when it fully matches (?:.*\.)?(?:G). */
export function compileGlob(pattern: string): GlobResult {
  if (pattern.length === 0) return fail("empty selector: name a module, e.g. \"q_proj\"", 0, 0);
  if (pattern === "**") return { ok: true, regex: ".*" };
  let out = "";
  const groups: number[] = []; // offsets of open '{'
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    const prev = pattern[i - 1];
    if (c === "*" && pattern[i + 1] === "*") {
      if (pattern[i + 2] === "*") return fail("'***' is not a glob: use '*' for one segment or '**' for any number", i, 3);
      const next = pattern[i + 2];
      const startsSegment = prev === undefined || prev === "." || prev === "{" || prev === ",";
      const endsSegment = next === undefined || next === "." || next === "}" || next === ",";
      if (!startsSegment || !endsSegment) return fail("'**' must be a whole segment, e.g. \"layers.**\"", i, 2);
      if (prev === ".") {
        // a.**.b matches a.b too: the separator before ** becomes optional.
        out = out.slice(0, -2) + "(?:\\..*)?";
      } else if (next === ".") {
        out += "(?:.*\\.)?";
        i++;
      } else {
        out += ".*";
      }
      i++;
      continue;
    }
    switch (c) {
      case ".": {
        if (prev === "." || prev === undefined || i === pattern.length - 1) {
          return fail("empty path segment: segments are separated by one '.'", i, 1);
        }
        out += "\\.";
        break;
      }
      case "*": {
        const next = pattern[i + 1];
        const whole = (prev === undefined || prev === "." || prev === "{" || prev === ",")
          && (next === undefined || next === "." || next === "}" || next === ",");
        out += whole ? "[^.]+" : "[^.]*";
        break;
      }
      case "?":
        out += "[^.]";
        break;
      case "{":
        groups.push(i);
        out += "(?:";
        break;
      case ",":
        if (groups.length === 0) return fail("',' outside '{...}': write alternatives as {a,b}", i, 1);
        out += "|";
        break;
      case "}":
        if (groups.length === 0) return fail("'}' without a matching '{'", i, 1);
        groups.pop();
        out += ")";
        break;
      case "[": {
        const close = pattern.indexOf("]", i);
        if (close < 0) return fail("'[' without a closing ']': write a layer range as [0..15]", i, pattern.length - i);
        const range = compileRange(pattern.slice(i + 1, close), i);
        if (!range.ok) return range;
        out += range.regex;
        i = close;
        break;
      }
      case "]":
        return fail("']' without a matching '['", i, 1);
      default:
        if (!LITERAL.test(c)) {
          return fail(`'${c}' cannot appear in a module glob; use a /regex/ for other patterns`, i, 1);
        }
        out += c === "-" ? "\\-" : c;
    }
  }
  if (groups.length > 0) {
    const at = groups[groups.length - 1]!;
    return fail("'{' without a closing '}'", at, pattern.length - at);
  }
  return { ok: true, regex: out };
}

function compileRange(body: string, at: number): GlobResult {
  const offset = at + 1;
  if (body.trim() === "") return fail("empty range: write [0..15], [0..3,8..12] or [5]", at, 2);
  const numbers: number[] = [];
  let position = offset;
  for (const part of body.split(",")) {
    const match = /^\s*(\d+)\s*(?:\.\.\s*(\d+)\s*)?$/.exec(part);
    if (!match) return fail(`'${part.trim()}' is not a layer number or range like 0..15`, position, part.length);
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    if (to < from) return fail(`range ${from}..${to} is empty: write the smaller number first`, position, part.length);
    if (to - from > MAX_RANGE_SPAN) return fail(`range ${from}..${to} is too large`, position, part.length);
    for (let n = from; n <= to; n++) numbers.push(n);
    position += part.length + 1;
  }
  const unique = [...new Set(numbers)].sort((a, b) => a - b);
  // Longest first, so that a prefix (1) never hides a longer number (12).
  const alternatives = unique.map(String).sort((a, b) => b.length - a.length || Number(a) - Number(b));
  return { ok: true, regex: `(?:${alternatives.join("|")})` };
}

function fail(message: string, offset: number, length: number): GlobResult {
  return { ok: false, error: { message, offset, length } };
}

/** The full-path regex of a glob body, with PEFT's suffix-on-a-dot-boundary meaning. */
export function globToPathRegex(globRegex: string): RegExp {
  return new RegExp(`^(?:.*\\.)?(?:${globRegex})$`);
}

/** True when the pattern is a plain dotted name (no glob syntax at all). */
export function isPlainName(pattern: string): boolean {
  return /^[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]+)*$/.test(pattern);
}
