// A validated spec meets its model: find the model directory (the spec's
// path, relative to the spec file, or --model), load it, and build the plan.
// Problems with the model are reported at the spec's `path` when it named it.
import { dirname, isAbsolute, resolve } from "node:path";
import { error, LineIndex, type Diagnostic } from "../../grammar/diagnostics.js";
import { UserError } from "../errors.js";
import { loadModel, type LoadedModel } from "../models/load.js";
import { ModelError } from "../models/types.js";
import type { AnalyzedSpec } from "../spec/analyze.js";
import { buildPlan } from "./plan.js";
import type { Plan } from "./plan-types.js";
import { warning } from "../../grammar/diagnostics.js";

export interface ResolvedSpec {
  plan?: Plan;
  model?: LoadedModel;
  modelDir?: string;
  diagnostics: Diagnostic[];
}

export interface ResolveOptions {
  /** --model: overrides the spec's model path. */
  modelDir?: string;
  batch?: number;
  seqLen?: number;
}

/** The model directory a spec refers to: --model wins, else the spec's path relative to the spec file. */
export function modelDirOf(spec: AnalyzedSpec, override?: string): string | undefined {
  if (override) return override;
  const path = spec.ir?.model?.path;
  if (!path) return undefined;
  return isAbsolute(path) ? path : resolve(dirname(spec.source.path), path);
}

export function resolveSpec(spec: AnalyzedSpec, options: ResolveOptions = {}): ResolvedSpec {
  if (!spec.ir || !spec.spans) throw new Error("resolveSpec needs a valid spec");
  const modelDir = modelDirOf(spec, options.modelDir);
  if (!modelDir) {
    throw new UserError(`${spec.source.path} names no model directory`, "add a model block with a path, or pass --model DIR");
  }
  const pathSpan = options.modelDir ? undefined : spec.spans.value("/model/path");
  let model: LoadedModel;
  try {
    model = loadModel(modelDir, spec.ir.model?.family ?? "auto");
  } catch (e) {
    if (!(e instanceof ModelError)) throw e;
    if (pathSpan) return { modelDir, diagnostics: [error(e.message, pathSpan)] };
    throw new UserError(e.message);
  }
  const lines = new LineIndex(spec.source.text);
  const diagnostics: Diagnostic[] = model.tree.warnings.map((w) => warning(`${modelDir}: ${w}`, pathSpan));
  const result = buildPlan(spec.ir, model.tree, { spans: spec.spans, lines, batch: options.batch, seqLen: options.seqLen });
  diagnostics.push(...result.diagnostics);
  return { plan: result.plan, model, modelDir, diagnostics };
}
