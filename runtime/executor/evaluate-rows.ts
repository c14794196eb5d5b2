// A graph's eval phase over sequences, in batches: each sequence's summed
// loss and predicted-token count. In a mixed-adapter graph the host writes
// each batch's sequence → adapter index buffer beside the tokens, so a batch
// packs sequences whatever adapter each runs with. Training's evaluation and
// peftc eval both go through here.
import { tokenIo } from "../../compiler/graph/types.js";
import { idsOf, targetsOf, type Sequence } from "../data/batches.js";
import { IGNORE } from "../data/examples.js";
import type { GraphRunner } from "./graph-runner.js";

export interface EvalRow {
  sequence: Sequence;
  /** The adapter's index in the graph's plan, −1 for none. */
  adapter: number;
}

export interface RowLoss {
  sum: number;
  tokens: number;
}

export async function evaluateRows(runner: GraphRunner, rows: readonly EvalRow[]): Promise<RowLoss[]> {
  const { batch, seqLen: rowsPerSequence } = runner.graph;
  const virtual = runner.graph.io.virtualTokens ?? 0;
  const seqLen = rowsPerSequence - virtual;
  const io = tokenIo(runner.graph);
  const indexBuffer = runner.graph.io.adapterIndex;
  const losses = new Float32Array(batch * rowsPerSequence);
  const out: RowLoss[] = [];
  // Dropout is the identity in evaluation.
  runner.setScalar("training", 0);
  for (let at = 0; at < rows.length; at += batch) {
    const chunk = rows.slice(at, at + batch);
    const padded = chunk.map((r) => r.sequence);
    // A short last batch is filled with sequences that predict nothing.
    while (padded.length < batch) padded.push({ ids: new Int32Array(seqLen), labels: new Int32Array(seqLen).fill(IGNORE) });
    const targets = targetsOf(padded, seqLen, virtual);
    runner.write(io.ids, idsOf(padded, seqLen, virtual));
    runner.write(io.labels, targets);
    if (indexBuffer) {
      const index = new Int32Array(batch).fill(-1);
      chunk.forEach((r, b) => (index[b] = r.adapter));
      runner.write(indexBuffer, index);
    } else if (chunk.some((r) => r.adapter !== chunk[0]!.adapter)) {
      throw new Error("this graph runs one adapter for every sequence");
    }
    await runner.run(["eval"]);
    await runner.read(io.loss, losses);
    chunk.forEach((_, b) => {
      let sum = 0;
      let tokens = 0;
      for (let t = 0; t < rowsPerSequence; t++) {
        if (targets[b * rowsPerSequence + t]! >= 0) {
          sum += losses[b * rowsPerSequence + t]!;
          tokens++;
        }
      }
      out.push({ sum, tokens });
    });
  }
  return out;
}
