// Tokens of the .peft language. Whitespace is insignificant; comments run from
// '#' to the end of the line and are kept in their own group for the formatter.
import { createToken, Lexer, type IToken, type TokenType } from "chevrotain";
import { error, type Diagnostic } from "./diagnostics.js";
import type { Comment } from "./ast.js";

export const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /[ \t\r\n\f\v]+/, group: Lexer.SKIPPED });
export const CommentToken = createToken({ name: "Comment", pattern: /#[^\n\r]*/, group: "comments" });

export const Identifier = createToken({ name: "Identifier", pattern: /[A-Za-z_][A-Za-z0-9_]*/, label: "a name" });

const keyword = (word: string) =>
  createToken({ name: word[0]!.toUpperCase() + word.slice(1), pattern: new RegExp(word), longer_alt: Identifier, label: `'${word}'` });

export const Peft = keyword("peft");
export const Model = keyword("model");
export const Adapter = keyword("adapter");
export const Train = keyword("train");
export const Target = keyword("target");
export const Exclude = keyword("exclude");
export const Override = keyword("override");
export const True = keyword("true");
export const False = keyword("false");

export const StringLiteral = createToken({ name: "String", pattern: /"(?:[^"\\\n\r]|\\.)*"/, label: "a string" });
// Matched only when the closing quote is missing, so that the error can say so.
export const UnterminatedString = createToken({ name: "UnterminatedString", pattern: /"(?:[^"\\\n\r]|\\.)*/ });
export const RegexLiteral = createToken({ name: "Regex", pattern: /\/(?:[^/\\\n\r]|\\.)+\//, label: "a /regex/" });
export const UnterminatedRegex = createToken({ name: "UnterminatedRegex", pattern: /\/(?:[^/\\\n\r]|\\.)*/ });

export const Float = createToken({
  name: "Float",
  pattern: /-?(?:\d+\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)/,
  label: "a number",
});
export const Integer = createToken({ name: "Integer", pattern: /-?\d+/, label: "an integer" });
export const DotDot = createToken({ name: "DotDot", pattern: /\.\./, label: "'..'" });

export const LCurly = createToken({ name: "LCurly", pattern: /\{/, label: "'{'" });
export const RCurly = createToken({ name: "RCurly", pattern: /\}/, label: "'}'" });
export const LBracket = createToken({ name: "LBracket", pattern: /\[/, label: "'['" });
export const RBracket = createToken({ name: "RBracket", pattern: /\]/, label: "']'" });
export const LParen = createToken({ name: "LParen", pattern: /\(/, label: "'('" });
export const RParen = createToken({ name: "RParen", pattern: /\)/, label: "')'" });
export const Equals = createToken({ name: "Equals", pattern: /=/, label: "'='" });
export const Colon = createToken({ name: "Colon", pattern: /:/, label: "':'" });
export const Comma = createToken({ name: "Comma", pattern: /,/, label: "','" });

export const KEYWORDS = [Peft, Model, Adapter, Train, Target, Exclude, Override, True, False];

export const allTokens: TokenType[] = [
  WhiteSpace,
  CommentToken,
  ...KEYWORDS,
  Identifier,
  StringLiteral,
  UnterminatedString,
  RegexLiteral,
  UnterminatedRegex,
  Float,
  Integer,
  DotDot,
  LCurly,
  RCurly,
  LBracket,
  RBracket,
  LParen,
  RParen,
  Equals,
  Colon,
  Comma,
];

const lexer = new Lexer(allTokens, { positionTracking: "full", ensureOptimizations: false });

export interface LexResult {
  tokens: IToken[];
  comments: Comment[];
  diagnostics: Diagnostic[];
}

export function tokenize(text: string): LexResult {
  const result = lexer.tokenize(text);
  const diagnostics: Diagnostic[] = result.errors.map((e) => {
    const bad = text.slice(e.offset, e.offset + e.length);
    const shown = bad.length > 12 ? `${bad.slice(0, 12)}...` : bad;
    return error(`unexpected character${e.length > 1 ? "s" : ""} ${JSON.stringify(shown)}`, {
      start: e.offset,
      end: e.offset + e.length,
    });
  });
  const tokens: IToken[] = [];
  for (const token of result.tokens) {
    const span = { start: token.startOffset, end: token.startOffset + token.image.length };
    // An unterminated literal is reported here and then parsed as if closed,
    // so that one missing quote does not also produce a cascade of syntax errors.
    if (token.tokenType === UnterminatedString) {
      diagnostics.push(error("unterminated string: a string ends with '\"' on the same line", span));
      tokens.push({ ...token, tokenType: StringLiteral, tokenTypeIdx: StringLiteral.tokenTypeIdx!, image: `${token.image}"` });
    } else if (token.tokenType === UnterminatedRegex) {
      diagnostics.push(error("unterminated /regex/: a regex ends with '/' on the same line", span));
      tokens.push({ ...token, tokenType: RegexLiteral, tokenTypeIdx: RegexLiteral.tokenTypeIdx!, image: `${token.image}/` });
    } else {
      tokens.push(token);
    }
  }
  const comments = (result.groups.comments ?? []).map((t) => ({
    text: t.image.replace(/\s+$/, ""),
    span: { start: t.startOffset, end: t.startOffset + t.image.length },
  }));
  return { tokens, comments, diagnostics };
}
