/**
 * The service worker (public/sw.js, its precache list filled in at build time) keeps the app,
 * its workers and the demo model in the browser's cache, so the page reloads and scans with
 * the network off after the first visit. It also adds the cross-origin isolation headers to
 * what it serves, for static hosts that cannot send them (GitHub Pages): see docs/deploy.md.
 */
export function registerServiceWorker(): void {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator) || !window.isSecureContext) return;
  const register = () => {
    navigator.serviceWorker.register('./sw.js', { scope: './' }).catch((e: unknown) => {
      // Offline support is a convenience: the app works without it.
      console.warn('Spectroscope: service worker not registered:', (e as Error)?.message ?? e);
    });
  };
  if (document.readyState === 'complete') register();
  else window.addEventListener('load', register, { once: true });
}
