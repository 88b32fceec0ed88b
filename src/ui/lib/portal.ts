/** Moves an element to <body>, out of any contained or clipped card (tooltips). */
export function portal(node: HTMLElement): { destroy(): void } {
  document.body.appendChild(node);
  return {
    destroy() {
      node.remove();
    },
  };
}
