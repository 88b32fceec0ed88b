/** Per-type selection (spec §3): stable descending sort, keep floor(count·P/100). */

export interface ScoredModule {
  name: string;
  type: string;
  score: number;
}

/**
 * Descending by score, ties (and NaNs) keep their original order. Python's `sorted(reverse=True)`
 * is stable in the same way; a NaN there compares false both ways, here it sorts last.
 */
export function sortDescending<T extends { score: number }>(items: T[]): T[] {
  const key = (x: number) => (Number.isNaN(x) ? -Infinity : x);
  return items
    .map((item, i) => ({ item, i }))
    .sort((a, b) => {
      const ka = key(a.item.score);
      const kb = key(b.item.score);
      if (ka !== kb) return kb > ka ? 1 : -1;
      const na = Number.isNaN(a.item.score);
      const nb = Number.isNaN(b.item.score);
      if (na !== nb) return na ? 1 : -1;
      return a.i - b.i;
    })
    .map((x) => x.item);
}

export function topCount(count: number, percent: number): number {
  // int(len * P / 100) in Python floors toward zero; do the arithmetic in the same order.
  return Math.trunc((count * percent) / 100);
}

/** Group by type in first-seen order. */
export function groupByType<T extends { type: string }>(items: T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const it of items) {
    let g = out.get(it.type);
    if (!g) out.set(it.type, (g = []));
    g.push(it);
  }
  return out;
}

/** type → selected module names, best first; types in first-seen order. */
export function selectTop(results: ScoredModule[], percent: number): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [type, group] of groupByType(results)) {
    out.set(
      type,
      sortDescending(group)
        .slice(0, topCount(group.length, percent))
        .map((m) => m.name),
    );
  }
  return out;
}
