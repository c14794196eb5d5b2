// metrics.jsonl: one JSON object per logged step (and per evaluation), so that
// a run can be plotted or compared by any tool; rewritten atomically on resume
// so that it never holds steps the resumed run will log again.
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { writeFileAtomic } from "../files/atomic.js";

export interface MetricRecord {
  step: number;
  loss?: number;
  eval_loss?: number;
  lr?: number;
  grad_norm?: number;
  tokens?: number;
  tokens_per_s?: number;
  elapsed_s?: number;
}

export class MetricsLog {
  constructor(readonly path: string) {}

  append(record: MetricRecord): void {
    appendFileSync(this.path, JSON.stringify(record) + "\n");
  }

  read(): MetricRecord[] {
    if (!existsSync(this.path)) return [];
    return readFileSync(this.path, "utf8").split("\n").filter((l) => l.trim() !== "").flatMap((line) => {
      try {
        return [JSON.parse(line) as MetricRecord];
      } catch {
        // A line cut short by a kill: the resumed run logs that step again.
        return [];
      }
    });
  }

  /**
   * Keeps only records up to `step` (those a checkpoint at `step` had seen),
   * less the final evaluation at `last`, which a resumed run always repeats.
   */
  truncate(step: number, last: number): MetricRecord[] {
    const kept = this.read().filter((r) => r.step <= step && !(r.step === last && r.eval_loss !== undefined));
    writeFileAtomic(this.path, kept.map((r) => JSON.stringify(r) + "\n").join(""));
    return kept;
  }
}
