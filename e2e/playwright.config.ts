/**
 * End-to-end tests: the built app (`npm run build` first) served by `vite preview`, driven in
 * Debian's Chromium (Playwright's own browser download is not used).
 */
import { defineConfig } from '@playwright/test';
import { BASE_ARGS, DEFAULT_CHROMIUM } from '../src/testing/chromium.mjs';

const PORT = Number(process.env.E2E_PORT ?? 4178);
const CI = !!process.env.CI;

export default defineConfig({
  testDir: '.',
  outputDir: '../test-results',
  timeout: 90_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: CI ? 1 : 0,
  forbidOnly: CI,
  reporter: CI ? [['list'], ['html', { open: 'never', outputFolder: '../playwright-report' }]] : [['list']],
  use: {
    baseURL: `http://localhost:${PORT}/`,
    browserName: 'chromium',
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1440, height: 1000 },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? DEFAULT_CHROMIUM,
      args: BASE_ARGS,
    },
  },
  webServer: {
    // Serves dist/ as built; fails with a clear message when there is no build.
    command: `node -e "require('fs').existsSync('dist/index.html')||(console.error('e2e: dist/ is missing: run npm run build first'),process.exit(1))" && npx vite preview --port ${PORT} --strictPort`,
    cwd: '..',
    url: `http://localhost:${PORT}/`,
    reuseExistingServer: !CI,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
