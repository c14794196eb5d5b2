// "Did you mean" for misspelled names.
import { distance } from "fastest-levenshtein";

/** The closest candidate, when it is close enough to be a likely typo. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const lower = word.toLowerCase();
  for (const candidate of candidates) {
    const d = distance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  if (best === undefined) return undefined;
  // Short names tolerate one slip; a swapped pair of letters costs two edits.
  const length = Math.max(word.length, best.length);
  const allowed = length <= 3 ? 1 : length <= 8 ? 2 : 3;
  return bestDistance <= allowed ? best : undefined;
}

/** A hint line: the likely intended name, or the full list when nothing is close. */
export function didYouMean(word: string, candidates: readonly string[], what: string): string | undefined {
  if (candidates.length === 0) return undefined;
  const close = suggest(word, candidates);
  if (close) return `did you mean '${close}'?`;
  return `${what}: ${candidates.join(", ")}`;
}
