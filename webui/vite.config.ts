/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// KaTeX's stylesheet lists every font as woff2, woff and ttf; every browser
// that runs this UI reads woff2, so the other two are dropped before Vite
// bundles them (they would triple the fonts' share of the binary).
function katexWoff2Only(): Plugin {
  return {
    name: 'katex-woff2-only',
    enforce: 'pre',
    transform(code, id) {
      if (!/katex(\.min)?\.css($|\?)/.test(id)) return null;
      const out = code.replace(/,\s*url\([^)]*\.(?:woff|ttf)\)\s*format\("(?:woff|truetype)"\)/g, '');
      return { code: out, map: null };
    },
  };
}

// During `npm run dev` the API calls go to a running `ember serve`.
const backend = process.env.EMBER_URL ?? 'http://127.0.0.1:8011';
const proxied = ['/v1', '/api', '/tokenize', '/metrics', '/health', '/version'];

export default defineConfig({
  plugins: [katexWoff2Only(), svelte()],
  build: {
    target: 'es2022',
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1500,
    reportCompressedSize: false,
  },
  server: {
    proxy: Object.fromEntries(proxied.map((p) => [p, { target: backend, changeOrigin: true }])),
  },
  resolve: process.env.VITEST ? { conditions: ['browser'] } : undefined,
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'jsdom',
  },
});
