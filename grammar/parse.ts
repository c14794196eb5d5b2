// Source text to AST: lexing, parsing, tree building and comment attachment,
// with every problem reported as a located diagnostic (never an exception).
import type { SpecFile } from "./ast.js";
import { AstBuilder } from "./build-ast.js";
import { error, sortDiagnostics, type Diagnostic } from "./diagnostics.js";
import { tokenize } from "./lexer.js";
import { parseTokens } from "./parser.js";
import { attachTrivia } from "./trivia.js";

export interface ParseResult {
  /** Present when the text is syntactically valid. */
  ast?: SpecFile;
  diagnostics: Diagnostic[];
}

export const SUPPORTED_VERSION = 1;

export function parse(text: string): ParseResult {
  const lexed = tokenize(text);
  const diagnostics: Diagnostic[] = [...lexed.diagnostics];
  const { cst, errors } = parseTokens(lexed.tokens);
  for (const e of errors) {
    const at = Number.isFinite(e.token.startOffset)
      ? { start: e.token.startOffset, end: Math.min(text.length, e.token.startOffset + Math.max(1, e.token.image.length)) }
      : endOfInput(text, e.previous);
    diagnostics.push(error(e.message, at));
  }
  if (diagnostics.length > 0) return { diagnostics: sortDiagnostics(diagnostics) };

  const builder = new AstBuilder();
  const ast = builder.file(cst, text.length);
  diagnostics.push(...builder.diagnostics);
  attachTrivia(ast, lexed.comments, text);
  if (!ast.header) {
    const first = lexed.tokens[0];
    const span = first ? { start: first.startOffset, end: first.startOffset + first.image.length } : { start: 0, end: 0 };
    diagnostics.push(error(`a spec starts with the header 'peft ${SUPPORTED_VERSION}'`, span, `add 'peft ${SUPPORTED_VERSION}' as the first line`));
  } else if (ast.header.version !== SUPPORTED_VERSION) {
    diagnostics.push(error(`unsupported language version ${ast.header.version}: this peftc reads version ${SUPPORTED_VERSION}`, ast.header.versionSpan));
  }
  return { ast, diagnostics: sortDiagnostics(diagnostics) };
}

/** Where "expected X but found the end of the file" points: just past the last token. */
function endOfInput(text: string, previous?: { startOffset: number; image: string }) {
  // min(): an unterminated literal's token was given a closing character the text lacks.
  const at = Math.min(text.length, previous && Number.isFinite(previous.startOffset) ? previous.startOffset + previous.image.length : text.length);
  return { start: at, end: at };
}
