/**
 * The element's content width, from ResizeObserver's own measurement: unlike
 * `bind:clientWidth`, reading it never forces a layout.
 */
export function observeWidth(node: HTMLElement, onWidth: (width: number) => void): { destroy(): void } {
  const ro = new ResizeObserver((entries) => {
    const e = entries[entries.length - 1];
    if (e) onWidth(Math.round(e.contentRect.width));
  });
  ro.observe(node);
  return { destroy: () => ro.disconnect() };
}
