import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * One vitest run for every extension: `extensions/<pkg>/test/**\/*.spec.ts(x)`.
 * Tests run in Node by default; a component test opts into jsdom with a
 * `// @vitest-environment jsdom` comment at its top.
 */
export default defineConfig({
  plugins: [
    {
      // JupyterLab's packages and ours import SVG icons as their source text
      // (webpack's asset/source in the labextension build): do the same.
      name: 'espri-vre:svg-source',
      enforce: 'pre',
      async load(id) {
        if (!id.endsWith('.svg')) {
          return null;
        }
        return `export default ${JSON.stringify(await readFile(id, 'utf-8'))};`;
      }
    }
  ],
  resolve: {
    alias: {
      // Test against the shared package's sources, not its last build.
      '@espri-vre/core': fileURLToPath(
        new URL('extensions/core/src/index.ts', import.meta.url)
      )
    }
  },
  test: {
    include: ['extensions/*/test/**/*.spec.{ts,tsx}'],
    environment: 'node',
    // Generous bounds: some suites start Python (xarray, intake-esm, cftime) to compute the
    // expected values, and CI machines are shared; these are not performance assertions.
    testTimeout: 120000,
    // Vitest's JUnit report does not say that a test passed only on a retry: never retry, so a
    // flaky test fails where scripts/junit_summary.py sees it.
    retry: 0,
    hookTimeout: 300000,
    setupFiles: ['extensions/core/test/jsdom-shims.ts'],
    css: false,
    server: {
      deps: {
        // JupyterLab's packages are ES modules without "type": "module" that import
        // CSS and SVG files: Vite transforms them, as webpack does in the build,
        // rather than Node loading them.
        inline: [/@jupyterlab\//, /@jupyter\//, /@lumino\//]
      }
    }
  }
});
