// Canonical formatting: the output depends only on the AST and its comments,
// never on the original layout, so formatting is idempotent. Comments and
// single blank lines between statements inside blocks are kept.
import type { Block, BlockItem, Comment, Selector, SpecFile, Statement, TopItem, Value } from "./ast.js";

const INDENT = "  ";
const MAX_INLINE = 100;

export function format(file: SpecFile): string {
  const out: string[] = [];
  if (file.header) {
    emitLeading(out, file.header, "", true);
    out.push(withTrailing(`peft ${file.header.version}`, file.header));
  }
  for (const item of file.items) {
    if (out.length > 0) out.push("");
    emitLeading(out, item, "", true);
    emitTopItem(out, item);
  }
  emitDangling(out, file.dangling, "", out.length > 0);
  return out.join("\n") + "\n";
}

function emitTopItem(out: string[], item: TopItem): void {
  const head =
    item.kind === "model"
      ? `model ${item.family}`
      : item.kind === "adapter"
        ? `adapter ${item.name}: ${item.method}`
        : `train ${item.adapter}`;
  // A model block is usually one path: it stays on one line when it can.
  emitWithBlock(out, head, item.body, item, "", item.kind !== "model");
}

/** Emits `head { ... }` (inline when small and comment-free), with the statement's trailing comment. */
function emitWithBlock(out: string[], head: string, block: Block, owner: Statement, indent: string, expand: boolean): void {
  const inline = expand ? undefined : inlineBlock(block);
  if (inline !== undefined && indent.length + head.length + inline.length + 1 <= MAX_INLINE) {
    out.push(withTrailing(`${indent}${head} ${inline}`, owner));
    return;
  }
  if (block.items.length === 0 && block.dangling.length === 0) {
    // An empty block's comment reads back as the opening line's: print it there.
    const comment = block.openComment && !owner.trailing ? `  ${block.openComment.text}` : "";
    if (!block.openComment || comment) {
      out.push(withTrailing(`${indent}${head} {}${comment}`, owner));
      return;
    }
  }
  out.push(`${indent}${head} {${block.openComment ? `  ${block.openComment.text}` : ""}`);
  const inner = indent + INDENT;
  block.items.forEach((item, i) => {
    if (i > 0 && (item.blankBefore || item.leading[0]?.blankBefore)) out.push("");
    emitLeading(out, item, inner, false);
    emitBlockItem(out, item, inner);
  });
  emitDangling(out, block.dangling, inner, block.items.length > 0);
  out.push(withTrailing(`${indent}}`, owner));
}

function emitBlockItem(out: string[], item: BlockItem, indent: string): void {
  const head =
    item.kind === "assignment"
      ? `${item.key} = ${formatValue(item.value, indent.length + item.key.length + 3, indent)}`
      : `${item.action} ${item.selectors.map(formatSelector).join(", ")}`;
  if (item.block) emitWithBlock(out, head, item.block, item, indent, false);
  else out.push(withTrailing(`${indent}${head}`, item));
}

/** The one-line form of a block, or undefined when it must be expanded. */
function inlineBlock(block: Block): string | undefined {
  if (block.openComment || block.dangling.length > 0) return undefined;
  if (block.items.length === 0) return "{}";
  const parts: string[] = [];
  for (const item of block.items) {
    if (item.kind !== "assignment" || item.block || item.leading.length > 0 || item.trailing) return undefined;
    parts.push(`${item.key} = ${formatValue(item.value, Number.POSITIVE_INFINITY)}`);
  }
  return `{ ${parts.join("  ")} }`;
}

function emitLeading(out: string[], statement: Statement, indent: string, dropFirstBlank: boolean): void {
  statement.leading.forEach((comment, i) => {
    const first = i === 0;
    if (comment.blankBefore && !(first && dropFirstBlank) && out.length > 0 && out[out.length - 1] !== "") out.push("");
    out.push(`${indent}${comment.text}`);
  });
  if (statement.leading.length > 0 && statement.blankBefore) out.push("");
}

function emitDangling(out: string[], comments: Comment[], indent: string, afterSomething: boolean): void {
  comments.forEach((comment, i) => {
    if (comment.blankBefore && (i > 0 || afterSomething) && out[out.length - 1] !== "") out.push("");
    out.push(`${indent}${comment.text}`);
  });
}

function withTrailing(line: string, statement: Statement): string {
  return statement.trailing ? `${line}  ${statement.trailing.text}` : line;
}

export function formatSelector(selector: Selector): string {
  switch (selector.kind) {
    case "glob":
      return JSON.stringify(selector.pattern);
    case "regex":
      return formatRegex(selector.source);
    case "all_linear":
      return "all_linear";
  }
}

function formatRegex(source: string): string {
  return `/${source.replace(/(^|[^\\])((?:\\\\)*)\//g, "$1$2\\/")}/`;
}

/** A value on one line, or a list one item a line when the line would be too long. */
export function formatValue(value: Value, column: number, indent = ""): string {
  switch (value.kind) {
    case "string":
      return JSON.stringify(value.value);
    case "number":
      return value.raw;
    case "bool":
      return String(value.value);
    case "ident":
      return value.name;
    case "regex":
      return formatRegex(value.source);
    case "range":
      return `${value.from}..${value.to}`;
    case "call":
      return `${value.callee}(${value.args.map((a) => formatValue(a, Number.POSITIVE_INFINITY)).join(", ")})`;
    case "list": {
      const items = value.items.map((item) => formatValue(item, Number.POSITIVE_INFINITY));
      const oneLine = `[${items.join(", ")}]`;
      if (column + oneLine.length <= MAX_INLINE || !Number.isFinite(column)) return oneLine;
      return `[\n${items.map((item) => `${indent}${INDENT}${item},`).join("\n")}\n${indent}]`;
    }
  }
}
