// Concrete syntax tree to typed AST. Runs only on trees without syntax errors,
// so every child the grammar requires is present.
import type { CstElement, CstNode, IToken } from "chevrotain";
import type {
  AdapterDecl,
  Assignment,
  Block,
  BlockItem,
  Header,
  ModelDecl,
  Rule,
  RuleAction,
  Selector,
  Span,
  SpecFile,
  TopItem,
  TrainDecl,
  Value,
} from "./ast.js";
import { error, type Diagnostic } from "./diagnostics.js";

const NO_TRIVIA = () => ({ leading: [], blankBefore: false });

function tokenSpan(token: IToken): Span {
  return { start: token.startOffset, end: token.startOffset + token.image.length };
}

function join(a: Span, b: Span): Span {
  return { start: Math.min(a.start, b.start), end: Math.max(a.end, b.end) };
}

function tokens(node: CstNode, name: string): IToken[] {
  return (node.children[name] as IToken[] | undefined) ?? [];
}

function nodes(node: CstNode, name: string): CstNode[] {
  return (node.children[name] as CstNode[] | undefined) ?? [];
}

function token(node: CstNode, name: string): IToken {
  const found = tokens(node, name)[0];
  if (!found) throw new Error(`grammar: no ${name} in ${node.name}`);
  return found;
}

function child(node: CstNode, name: string): CstNode {
  const found = nodes(node, name)[0];
  if (!found) throw new Error(`grammar: no ${name} in ${node.name}`);
  return found;
}

/** Children in source order, whatever their names. */
function ordered(node: CstNode): CstElement[] {
  return Object.values(node.children)
    .flat()
    .sort((a, b) => startOf(a) - startOf(b));
}

function startOf(element: CstElement): number {
  if ("image" in element) return element.startOffset;
  return element.location?.startOffset ?? Number.MAX_SAFE_INTEGER;
}

export class AstBuilder {
  readonly diagnostics: Diagnostic[] = [];

  file(node: CstNode, textLength: number): SpecFile {
    const headerNode = nodes(node, "header")[0];
    const header = headerNode ? this.header(headerNode) : undefined;
    const items = nodes(node, "topItem").map((n) => this.topItem(n));
    return { header, items, dangling: [], span: { start: 0, end: textLength } };
  }

  private header(node: CstNode): Header {
    const keyword = token(node, "Peft");
    const version = token(node, "Integer");
    return {
      kind: "header",
      version: Number(version.image),
      versionSpan: tokenSpan(version),
      span: join(tokenSpan(keyword), tokenSpan(version)),
      ...NO_TRIVIA(),
    };
  }

  private topItem(node: CstNode): TopItem {
    const [model] = nodes(node, "model");
    if (model) return this.model(model);
    const [adapter] = nodes(node, "adapter");
    if (adapter) return this.adapter(adapter);
    return this.train(child(node, "train"));
  }

  private model(node: CstNode): ModelDecl {
    const keyword = token(node, "Model");
    const family = token(node, "Identifier");
    const body = this.block(child(node, "block"));
    return {
      kind: "model",
      family: family.image,
      familySpan: tokenSpan(family),
      body,
      span: join(tokenSpan(keyword), body.span),
      ...NO_TRIVIA(),
    };
  }

  private adapter(node: CstNode): AdapterDecl {
    const keyword = token(node, "Adapter");
    const name = token(node, "name");
    const method = token(node, "method");
    const body = this.block(child(node, "block"));
    return {
      kind: "adapter",
      name: name.image,
      nameSpan: tokenSpan(name),
      method: method.image,
      methodSpan: tokenSpan(method),
      body,
      span: join(tokenSpan(keyword), body.span),
      ...NO_TRIVIA(),
    };
  }

  private train(node: CstNode): TrainDecl {
    const keyword = token(node, "Train");
    const name = token(node, "Identifier");
    const body = this.block(child(node, "block"));
    return {
      kind: "train",
      adapter: name.image,
      adapterSpan: tokenSpan(name),
      body,
      span: join(tokenSpan(keyword), body.span),
      ...NO_TRIVIA(),
    };
  }

  private block(node: CstNode): Block {
    const open = token(node, "LCurly");
    const close = token(node, "RCurly");
    const items: BlockItem[] = nodes(node, "blockItem").map((item) => {
      const [assignment] = nodes(item, "assignment");
      return assignment ? this.assignment(assignment) : this.rule(child(item, "rule"));
    });
    return { items, dangling: [], span: join(tokenSpan(open), tokenSpan(close)) };
  }

  private assignment(node: CstNode): Assignment {
    const key = token(node, "Identifier");
    const value = this.value(child(node, "value"));
    const [blockNode] = nodes(node, "block");
    const block = blockNode ? this.block(blockNode) : undefined;
    return {
      kind: "assignment",
      key: key.image,
      keySpan: tokenSpan(key),
      value,
      block,
      span: join(tokenSpan(key), block?.span ?? value.span),
      ...NO_TRIVIA(),
    };
  }

  private rule(node: CstNode): Rule {
    const action = token(node, "action");
    const selectors = nodes(node, "selector").map((s) => this.selector(s));
    const [blockNode] = nodes(node, "block");
    const block = blockNode ? this.block(blockNode) : undefined;
    const last = block?.span ?? selectors[selectors.length - 1]?.span ?? tokenSpan(action);
    return {
      kind: "rule",
      action: action.image as RuleAction,
      actionSpan: tokenSpan(action),
      selectors,
      block,
      span: join(tokenSpan(action), last),
      ...NO_TRIVIA(),
    };
  }

  private selector(node: CstNode): Selector {
    const [str] = tokens(node, "String");
    if (str) return { kind: "glob", pattern: this.unquote(str), span: tokenSpan(str) };
    const [regex] = tokens(node, "Regex");
    if (regex) return { kind: "regex", source: regexSource(regex.image), span: tokenSpan(regex) };
    const name = token(node, "Identifier");
    if (name.image !== "all_linear") {
      this.diagnostics.push(
        error(`unknown selector '${name.image}': a selector is a "glob", a /regex/ or all_linear`, tokenSpan(name),
          `quote it to match module names: "${name.image}"`),
      );
    }
    return { kind: "all_linear", span: tokenSpan(name) };
  }

  private value(node: CstNode): Value {
    const [list] = nodes(node, "list");
    if (list) return this.list(list);
    const first = ordered(node)[0] as IToken;
    const span = tokenSpan(first);
    switch (first.tokenType.name) {
      case "String":
        return { kind: "string", value: this.unquote(first), span };
      case "Regex":
        return { kind: "regex", source: regexSource(first.image), span };
      case "Float":
        return { kind: "number", value: Number(first.image), raw: first.image, integer: false, span };
      case "Integer": {
        const [, to] = tokens(node, "Integer");
        if (to) return { kind: "range", from: Number(first.image), to: Number(to.image), span: join(span, tokenSpan(to)) };
        return { kind: "number", value: Number(first.image), raw: first.image, integer: true, span };
      }
      case "True":
        return { kind: "bool", value: true, span };
      case "False":
        return { kind: "bool", value: false, span };
      default: {
        const [call] = nodes(node, "call");
        if (!call) return { kind: "ident", name: first.image, span };
        const close = token(call, "RParen");
        return {
          kind: "call",
          callee: first.image,
          calleeSpan: span,
          args: nodes(call, "value").map((v) => this.value(v)),
          span: join(span, tokenSpan(close)),
        };
      }
    }
  }

  private list(node: CstNode): Value {
    const open = token(node, "LBracket");
    const close = token(node, "RBracket");
    return { kind: "list", items: nodes(node, "value").map((v) => this.value(v)), span: join(tokenSpan(open), tokenSpan(close)) };
  }

  private unquote(token: IToken): string {
    try {
      return JSON.parse(token.image) as string;
    } catch {
      this.diagnostics.push(
        error("invalid escape in string: use \\\", \\\\, \\n, \\t or \\uXXXX", tokenSpan(token)),
      );
      return token.image.slice(1, -1);
    }
  }
}

/** The text between the slashes, with the escaped slash unescaped. */
function regexSource(image: string): string {
  return image.slice(1, -1).replace(/\\\//g, "/");
}
