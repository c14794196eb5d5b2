import Table from "cli-table3";

const NO_BORDER = {
  top: "", "top-mid": "", "top-left": "", "top-right": "",
  bottom: "", "bottom-mid": "", "bottom-left": "", "bottom-right": "",
  left: "", "left-mid": "", mid: "", "mid-mid": "", right: "", "right-mid": "", middle: "  ",
};

/** A borderless table, columns two spaces apart, the header underlined with dashes. */
export function compactTable(head: string[], align?: ("left" | "right")[]): Table.Table {
  const table = new Table({
    ...(align ? { colAligns: align } : {}),
    style: { head: [], border: [], "padding-left": 0, "padding-right": 0 },
    chars: NO_BORDER,
  });
  table.push(head);
  return table;
}

/** The table's text with a dashed rule under its first row. */
export function renderTable(table: Table.Table): string {
  const lines = table.toString().split("\n").map((l) => l.replace(/\s+$/, ""));
  const width = Math.max(...lines.map((l) => l.length));
  return [lines[0], "-".repeat(width), ...lines.slice(1)].join("\n");
}
