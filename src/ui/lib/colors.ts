/** Colours for ranks: the best module of a type is brightest. */
import { interpolateViridis } from 'd3';

/** t in [0, 1], 1 = best. */
export function rankColor(rank: number, count: number): string {
  const t = count > 1 ? 1 - (rank - 1) / (count - 1) : 1;
  return interpolateViridis(0.12 + 0.88 * t);
}

/** Black or white, whichever reads on `color`. */
export function inkOn(color: string): string {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})/i.exec(color) ?? /rgb\((\d+),\s*(\d+),\s*(\d+)/.exec(color);
  if (!m) return '#000';
  const [r, g, b] = color.startsWith('rgb') ? [Number(m[1]), Number(m[2]), Number(m[3])] : [parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16)];
  return 0.299 * r + 0.587 * g + 0.114 * b > 140 ? '#111' : '#fff';
}
