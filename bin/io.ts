/** Where a command writes; tests pass their own to capture output. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
  /** Text without a newline (streamed output); absent where only whole lines are taken. */
  write?(text: string): void;
  /** True when stdout is a terminal (colour, progress bars). */
  isTty: boolean;
}

/** Whether stderr is a terminal, also when the launcher pipes it through its filter. */
export function stderrIsTty(): boolean {
  return Boolean(process.stderr.isTTY) || process.env.PEFTC_STDERR_TTY === "1";
}

export const processIo: Io = {
  out: (line) => void process.stdout.write(line + "\n"),
  write: (text) => void process.stdout.write(text),
  err: (line) => void process.stderr.write(line + "\n"),
  isTty: Boolean(process.stdout.isTTY),
};
