// The .peft grammar (chevrotain, LL(1)) and the concrete syntax tree it builds.
//
//   file       := header? (model | adapter | train)*
//   header     := 'peft' INT
//   model      := 'model' NAME block
//   adapter    := 'adapter' NAME ':' NAME block
//   train      := 'train' NAME block
//   block      := '{' (assignment | rule)* '}'
//   assignment := NAME '=' value block?
//   rule       := ('target' | 'exclude' | 'override') selector (',' selector)* block?
//   selector   := STRING | REGEX | NAME
//   value      := STRING | REGEX | FLOAT | INT ('..' INT)? | 'true' | 'false'
//               | NAME ('(' (value (',' value)*)? ')')? | '[' (value (',' value)* ','?)? ']'
import { CstParser, type CstNode, type IParserErrorMessageProvider, type IToken, type TokenType } from "chevrotain";
import * as T from "./lexer.js";

function describeToken(token: IToken): string {
  if (token.tokenType.name === "EOF") return "the end of the file";
  const image = token.image.length > 24 ? `${token.image.slice(0, 24)}...` : token.image;
  return `'${image}'`;
}

function labelOf(type: TokenType): string {
  return type.LABEL ?? type.name;
}

function listWords(words: string[]): string {
  const unique = [...new Set(words)];
  if (unique.length <= 1) return unique[0] ?? "nothing";
  return `${unique.slice(0, -1).join(", ")} or ${unique[unique.length - 1]}`;
}

// An '=' where a new setting should start usually means the previous line's
// value is missing: `r =` followed by `alpha = 4` reads as `r = alpha`, then '='.
function missingValueHint(actual: IToken): string {
  return actual.tokenType.name === "Equals" ? " (is a value missing on the line before?)" : "";
}

const messages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage: ({ expected, actual }) =>
    expected.name === "EOF"
      ? `unexpected ${describeToken(actual)}: expected 'model', 'adapter' or 'train'`
      : `expected ${labelOf(expected)} but found ${describeToken(actual)}${missingValueHint(actual)}`,
  buildNotAllInputParsedMessage: ({ firstRedundant }) =>
    `unexpected ${describeToken(firstRedundant)}: expected 'model', 'adapter' or 'train'`,
  buildNoViableAltMessage: ({ expectedPathsPerAlt, actual, ruleName }) => {
    const firsts = expectedPathsPerAlt.flatMap((paths) => paths.map((path) => (path[0] ? labelOf(path[0]) : "")));
    return `expected ${RULE_WORDS[ruleName] ?? listWords(firsts.filter(Boolean))} but found ${describeToken(actual[0]!)}${missingValueHint(actual[0]!)}`;
  },
  buildEarlyExitMessage: ({ expectedIterationPaths, actual }) => {
    const firsts = expectedIterationPaths.map((path) => (path[0] ? labelOf(path[0]) : ""));
    return `expected ${listWords(firsts.filter(Boolean))} but found ${describeToken(actual[0]!)}`;
  },
};

// What a person expects to read where a choice failed, in the language's words.
const RULE_WORDS: Record<string, string> = {
  topItem: "'model', 'adapter' or 'train'",
  blockItem: "a setting (name = value), 'target', 'exclude', 'override' or '}'",
  value: "a value (string, number, true/false, name, [list] or /regex/)",
  selector: 'a selector: "glob", /regex/ or all_linear',
};

class PeftParser extends CstParser {
  constructor() {
    super(T.allTokens, { recoveryEnabled: true, errorMessageProvider: messages, maxLookahead: 2 });
    this.performSelfAnalysis();
  }

  file = this.RULE("file", () => {
    this.OPTION(() => this.SUBRULE(this.header));
    this.MANY(() => this.SUBRULE(this.topItem));
  });

  header = this.RULE("header", () => {
    this.CONSUME(T.Peft);
    this.CONSUME(T.Integer);
  });

  topItem = this.RULE("topItem", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.model) },
      { ALT: () => this.SUBRULE(this.adapter) },
      { ALT: () => this.SUBRULE(this.train) },
    ]);
  });

  model = this.RULE("model", () => {
    this.CONSUME(T.Model);
    this.CONSUME(T.Identifier);
    this.SUBRULE(this.block);
  });

  adapter = this.RULE("adapter", () => {
    this.CONSUME(T.Adapter);
    this.CONSUME(T.Identifier, { LABEL: "name" });
    this.CONSUME(T.Colon);
    this.CONSUME2(T.Identifier, { LABEL: "method" });
    this.SUBRULE(this.block);
  });

  train = this.RULE("train", () => {
    this.CONSUME(T.Train);
    this.CONSUME(T.Identifier);
    this.SUBRULE(this.block);
  });

  block = this.RULE("block", () => {
    this.CONSUME(T.LCurly);
    this.MANY(() => this.SUBRULE(this.blockItem));
    this.CONSUME(T.RCurly);
  });

  blockItem = this.RULE("blockItem", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.assignment) },
      { ALT: () => this.SUBRULE(this.rule) },
    ]);
  });

  assignment = this.RULE("assignment", () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Equals);
    this.SUBRULE(this.value);
    this.OPTION(() => this.SUBRULE(this.block));
  });

  rule = this.RULE("rule", () => {
    this.OR([
      { ALT: () => this.CONSUME(T.Target, { LABEL: "action" }) },
      { ALT: () => this.CONSUME(T.Exclude, { LABEL: "action" }) },
      { ALT: () => this.CONSUME(T.Override, { LABEL: "action" }) },
    ]);
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.selector) });
    this.OPTION(() => this.SUBRULE(this.block));
  });

  selector = this.RULE("selector", () => {
    this.OR([
      { ALT: () => this.CONSUME(T.StringLiteral) },
      { ALT: () => this.CONSUME(T.RegexLiteral) },
      { ALT: () => this.CONSUME(T.Identifier) },
    ]);
  });

  value = this.RULE("value", () => {
    this.OR([
      { ALT: () => this.CONSUME(T.StringLiteral) },
      { ALT: () => this.CONSUME(T.RegexLiteral) },
      { ALT: () => this.CONSUME(T.Float) },
      {
        ALT: () => {
          this.CONSUME(T.Integer);
          this.OPTION(() => {
            this.CONSUME(T.DotDot);
            this.CONSUME2(T.Integer);
          });
        },
      },
      { ALT: () => this.CONSUME(T.True) },
      { ALT: () => this.CONSUME(T.False) },
      {
        ALT: () => {
          this.CONSUME(T.Identifier);
          this.OPTION2(() => this.SUBRULE(this.call));
        },
      },
      { ALT: () => this.SUBRULE(this.list) },
    ]);
  });

  call = this.RULE("call", () => {
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.value) });
    this.CONSUME(T.RParen);
  });

  list = this.RULE("list", () => {
    this.CONSUME(T.LBracket);
    this.OPTION(() => {
      this.SUBRULE(this.value);
      this.MANY(() => {
        this.CONSUME(T.Comma);
        this.SUBRULE2(this.value);
      });
      // A trailing comma is allowed: lists written one item a line diff cleanly.
      this.OPTION2(() => this.CONSUME2(T.Comma));
    });
    this.CONSUME(T.RBracket);
  });
}

// Building the grammar analysis is costly; one instance serves every parse.
export const parser = new PeftParser();

export interface CstResult {
  cst: CstNode;
  errors: { message: string; token: IToken; previous?: IToken }[];
}

export function parseTokens(tokens: IToken[]): CstResult {
  parser.input = tokens;
  const cst = parser.file();
  const errors = parser.errors.map((e) => ({ message: e.message, token: e.token, previous: (e as { previousToken?: IToken }).previousToken }));
  return { cst, errors };
}
