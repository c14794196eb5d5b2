// Training progress: a bar on a terminal (loss, lr, tokens/s, ETA), plain
// lines otherwise, so that logs stay readable when stderr is a file.
import cliProgress from "cli-progress";
import type { MetricRecord } from "../../runtime/train/metrics.js";
import type { Reporter } from "../../runtime/train/trainer.js";
import { stderrIsTty, type Io } from "../io.js";

const fmt = (x: number | undefined, digits = 4) => (x === undefined ? "-" : x.toFixed(digits));

export function progressReporter(io: Io): Reporter {
  if (!stderrIsTty()) {
    return {
      start: (total, from) => io.err(`training: ${total} steps${from > 0 ? `, resuming at step ${from}` : ""}`),
      step: (step, r: MetricRecord) =>
        io.err(r.eval_loss !== undefined
          ? `step ${step}: eval loss ${fmt(r.eval_loss)}`
          : `step ${step}: loss ${fmt(r.loss)}  lr ${r.lr?.toExponential(2)}  grad norm ${fmt(r.grad_norm, 3)}  ${Math.round(r.tokens_per_s ?? 0)} tokens/s`),
      note: (line) => io.err(line),
      compiling: (done, total) => {
        if (done === 0) io.err(`compiling ${total} GPU pipelines before the first step (a new machine compiles each once; the shader cache keeps them)`);
      },
      stop: () => {},
    };
  }
  const bar = new cliProgress.SingleBar({
    format: "{bar} {value}/{total} steps | loss {loss} | lr {lr} | {speed} tokens/s | eval {evalLoss} | ETA {eta_formatted}",
    stream: process.stderr,
    hideCursor: true,
    clearOnComplete: false,
  }, cliProgress.Presets.shades_classic);
  let running = false;
  return {
    start(total, from) {
      bar.start(total, from, { loss: "-", lr: "-", speed: "-", evalLoss: "-" });
      running = true;
    },
    step(step, r) {
      const payload = r.eval_loss !== undefined
        ? { evalLoss: fmt(r.eval_loss) }
        : { loss: fmt(r.loss), lr: r.lr?.toExponential(2) ?? "-", speed: String(Math.round(r.tokens_per_s ?? 0)) };
      bar.update(step, payload);
    },
    note(line) {
      if (running) bar.stop();
      io.err(line);
    },
    compiling(done, total) {
      // One line rewritten in place: compiling comes before the step bar starts.
      process.stderr.write(`\rcompiling GPU pipelines ${done}/${total}${done === total ? "\n" : ""}`);
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}
