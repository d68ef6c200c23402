// The browser end-to-end tests (e2e/*.e2e.ts): `ember serve` + Chromium.
// Run through e2e/run.mjs, which skips (exit 77) when Chromium cannot start.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    sequence: { concurrent: false },
  },
});
