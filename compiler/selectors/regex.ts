// PEFT's string selectors are Python regular expressions matched with
// re.fullmatch. The common Python-only spellings are translated so that the
// same pattern means the same thing here.

export type RegexResult = { ok: true; regex: RegExp } | { ok: false; message: string };

/** The JavaScript spelling of a Python regex body. */
export function pythonToJsRegex(source: string): string {
  return source
    .replace(/\(\?P<([A-Za-z_][A-Za-z0-9_]*)>/g, "(?<$1>")
    .replace(/\(\?P=([A-Za-z_][A-Za-z0-9_]*)\)/g, "\\k<$1>")
    .replace(/\\A/g, "^")
    .replace(/\\Z/g, "$");
}

/** Compiles a selector regex for full-match use, or says why it is invalid. */
export function compileFullMatch(source: string): RegexResult {
  if (source.length === 0) return { ok: false, message: "empty /regex/" };
  try {
    return { ok: true, regex: new RegExp(`^(?:${pythonToJsRegex(source)})$`) };
  } catch (e) {
    const message = e instanceof Error ? e.message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, "") : String(e);
    return { ok: false, message: `invalid regex: ${message}` };
  }
}
