/** Per-type selection (spec §3): stable descending sort, keep floor(count·P/100). */
import { naturalCompare } from './model.js';

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

/**
 * The order in which the reference's results dict first meets the modules (its JSON's order,
 * and so the order of its YAML's type headers). It scans the types one after another and, for
 * type T, takes every module whose name *contains* T. Where a type is a substring of another
 * module's name (DeepSeek's `mlp.gate` in the dense layers' `mlp.gate_proj`, OPT's
 * `final_layer_norm` in `model.decoder.final_layer_norm`), that module is first met in T's pass;
 * its own later pass only sets its type again. We keep each module's own type (see the README:
 * grouping by exact type), but write it where the reference does. A pass meets its modules in
 * named_modules order, which we take as the names' natural order (layer 2 before layer 10;
 * `model.decoder.final_layer_norm` before `model.decoder.layers.…`, as OPT defines them).
 * Without such overlaps this is `items` unchanged. Types scan in their first-seen order.
 */
export function referenceOrder<T extends { name: string; type: string }>(items: T[]): T[] {
  const byType = groupByType(items);
  const types = [...byType.keys()];
  // A module's name ends with its type, so type t is in the names of type u whenever t is in u.
  // (Comparing types, not every name with every type, keeps this fast on MoE models with hundreds
  // of types and tens of thousands of modules; a t that reaches into the layer prefix, such as
  // "layers.3.mlp", is not looked for.)
  const stolenBy = new Map<string, T[]>(); // type → modules of other types whose names contain it
  for (const t of types) {
    const stolen = types.filter((u) => u !== t && u.includes(t)).flatMap((u) => byType.get(u)!);
    if (stolen.length) stolenBy.set(t, stolen);
  }
  if (stolenBy.size === 0) return items;
  const seen = new Set<T>();
  const out: T[] = [];
  for (const [t, own] of byType) {
    const pass = own.concat(stolenBy.get(t) ?? []).filter((i) => !seen.has(i));
    if (stolenBy.has(t)) pass.sort((a, b) => naturalCompare(a.name, b.name));
    for (const i of pass) {
      seen.add(i);
      out.push(i);
    }
  }
  return out;
}
