// Attaches comments and blank lines to the statements they belong to, so that
// the formatter can keep them. A comment on the same line after a statement
// trails it; any other comment leads the next statement of its block, or
// dangles before the closing brace. No comment is ever dropped.
import type { Block, Comment, Span, SpecFile, Statement } from "./ast.js";

interface Container {
  statements: Statement[];
  /** Offset where this container's own text starts (after '{'). */
  start: number;
  end: number;
  dangling: Comment[];
  block?: Block;
}

export function attachTrivia(file: SpecFile, comments: Comment[], text: string): void {
  const statements: Statement[] = [...(file.header ? [file.header] : []), ...file.items];
  const remaining = [...comments];
  attach({ statements, start: 0, end: text.length, dangling: file.dangling }, remaining, text);
}

const inside = (c: Comment, span: Span) => c.span.start >= span.start && c.span.end <= span.end;
const sameLine = (text: string, from: number, to: number) => !/[\n\r]/.test(text.slice(from, to));
const blankBetween = (text: string, from: number, to: number) => /\n[ \t\f\v\r]*\n|\r[ \t]*\r/.test(text.slice(from, to));

function blocksOf(statement: Statement): Block[] {
  switch (statement.kind) {
    case "model":
    case "adapter":
    case "train":
      return [statement.body];
    case "assignment":
    case "rule":
      return statement.block ? [statement.block] : [];
    default:
      return [];
  }
}

function attach(container: Container, comments: Comment[], text: string): void {
  const mine = comments.filter((c) => c.span.start >= container.start && c.span.end <= container.end);
  // Comments inside nested blocks are attached by the recursive call.
  for (const statement of container.statements) {
    for (const block of blocksOf(statement)) {
      attach(
        { statements: block.items, start: block.span.start + 1, end: block.span.end - 1, dangling: block.dangling, block },
        mine.filter((c) => inside(c, block.span)),
        text,
      );
    }
  }
  const nested = container.statements.flatMap(blocksOf).map((b) => b.span);
  const own = mine.filter((c) => !nested.some((span) => inside(c, span)));

  let previousEnd = container.start;
  let index = 0;
  for (const comment of own) {
    const firstOnBraceLine =
      container.block && !container.block.openComment && sameLine(text, container.start, comment.span.start)
      && !container.statements.some((s) => s.span.start < comment.span.start);
    if (firstOnBraceLine && container.block) {
      container.block.openComment = comment;
      previousEnd = comment.span.end;
      continue;
    }
    while (index < container.statements.length && container.statements[index]!.span.end <= comment.span.start) {
      previousEnd = container.statements[index]!.trailing?.span.end ?? container.statements[index]!.span.end;
      index++;
    }
    const before = container.statements[index - 1];
    const enclosing = container.statements[index];
    if (enclosing && enclosing.span.start < comment.span.start) {
      // Inside a statement but outside its block (e.g. between key and value):
      // the comment moves in front of the statement.
      comment.blankBefore = false;
      enclosing.leading.push(comment);
      continue;
    }
    if (before && !before.trailing && sameLine(text, before.span.end, comment.span.start)) {
      // An adapter or train block written on one line always expands when
      // formatted: its comment belongs with the opening line, not after '}'.
      if ((before.kind === "adapter" || before.kind === "train") && !before.body.openComment
        && sameLine(text, before.span.start, comment.span.start)) {
        before.body.openComment = comment;
        previousEnd = comment.span.end;
        continue;
      }
      before.trailing = comment;
      previousEnd = comment.span.end;
      continue;
    }
    comment.blankBefore = blankBetween(text, previousEnd, comment.span.start);
    previousEnd = comment.span.end;
    if (enclosing) enclosing.leading.push(comment);
    else container.dangling.push(comment);
  }

  let end = container.block?.openComment?.span.end ?? container.start;
  for (const statement of container.statements) {
    const before = statement.leading.filter((c) => c.span.start < statement.span.start);
    const from = before.length > 0 ? before[before.length - 1]!.span.end : end;
    statement.blankBefore = blankBetween(text, from, statement.span.start);
    end = statement.trailing?.span.end ?? statement.span.end;
  }
}
