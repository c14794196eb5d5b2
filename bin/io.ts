/** Where a command writes; tests pass their own to capture output. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** True when stdout is a terminal (colour, progress bars). */
  isTty: boolean;
}

export const processIo: Io = {
  out: (line) => void process.stdout.write(line + "\n"),
  err: (line) => void process.stderr.write(line + "\n"),
  isTty: Boolean(process.stdout.isTTY),
};
