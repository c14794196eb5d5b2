// The typed syntax tree of a .peft file. Every node carries the span of source
// it came from, so that every later stage can point at the text it is about.

/** Half-open range of UTF-16 offsets into the source text. */
export interface Span {
  start: number;
  end: number;
}

export interface Comment {
  text: string; // including the leading '#'
  span: Span;
  /** A blank line separated this comment from what came before. */
  blankBefore?: boolean;
}

/** Comments and spacing that the formatter keeps with a statement. */
export interface Trivia {
  leading: Comment[];
  trailing?: Comment;
  /** A blank line separated this statement (or its leading comments) from what came before. */
  blankBefore: boolean;
}

export type Value =
  | { kind: "string"; value: string; span: Span }
  | { kind: "number"; value: number; raw: string; integer: boolean; span: Span }
  | { kind: "bool"; value: boolean; span: Span }
  | { kind: "ident"; name: string; span: Span }
  | { kind: "regex"; source: string; span: Span }
  | { kind: "range"; from: number; to: number; span: Span }
  | { kind: "list"; items: Value[]; span: Span }
  | { kind: "call"; callee: string; calleeSpan: Span; args: Value[]; span: Span };

export type Selector =
  | { kind: "glob"; pattern: string; span: Span }
  | { kind: "regex"; source: string; span: Span }
  | { kind: "all_linear"; span: Span };

export interface Assignment extends Trivia {
  kind: "assignment";
  key: string;
  keySpan: Span;
  value: Value;
  block?: Block;
  span: Span;
}

export type RuleAction = "target" | "exclude" | "override";

export interface Rule extends Trivia {
  kind: "rule";
  action: RuleAction;
  actionSpan: Span;
  selectors: Selector[];
  block?: Block;
  span: Span;
}

export type BlockItem = Assignment | Rule;

export interface Block {
  items: BlockItem[];
  /** A comment on the line of the opening brace. */
  openComment?: Comment;
  /** Comments after the last item, before the closing brace. */
  dangling: Comment[];
  span: Span;
}

export interface Header extends Trivia {
  kind: "header";
  version: number;
  versionSpan: Span;
  span: Span;
}

export interface ModelDecl extends Trivia {
  kind: "model";
  family: string;
  familySpan: Span;
  body: Block;
  span: Span;
}

export interface AdapterDecl extends Trivia {
  kind: "adapter";
  name: string;
  nameSpan: Span;
  method: string;
  methodSpan: Span;
  body: Block;
  span: Span;
}

export interface TrainDecl extends Trivia {
  kind: "train";
  adapter: string;
  adapterSpan: Span;
  body: Block;
  span: Span;
}

export type TopItem = ModelDecl | AdapterDecl | TrainDecl;

export interface SpecFile {
  header?: Header;
  items: TopItem[];
  /** Comments after the last statement. */
  dangling: Comment[];
  span: Span;
}

/** Every statement that can carry comments, in source order. */
export type Statement = Header | TopItem | BlockItem;
