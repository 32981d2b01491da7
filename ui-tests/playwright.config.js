/**
 * Galata configuration: JupyterLab started by `jupyter lab` with jupyter_server_test_config.py,
 * driven in Debian's Chromium (no browser download works on these machines).
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');
const path = require('path');

const PORT = Number(process.env.ESPRI_VRE_TEST_PORT || 8988);
const RESULTS = path.resolve(__dirname, '..', '.test-runtime', 'results');

module.exports = {
  ...baseConfig,
  timeout: 120000,
  expect: { timeout: 30000 },
  // A test that passes only on a second try is a bug to fix, not a pass: no retries. If a run
  // asks for them (--retries), the JUnit report keeps the failed tries (flakyFailure) and
  // scripts/junit_summary.py counts such a test as failed, labelled flaky.
  retries: 0,
  workers: 1,
  outputDir: path.resolve(__dirname, '..', '.test-runtime', 'galata-output'),
  reporter: [
    ['list'],
    [
      'junit',
      { outputFile: path.join(RESULTS, 'galata.xml'), includeRetries: true }
    ]
  ],
  use: {
    ...baseConfig.use,
    baseURL: `http://127.0.0.1:${PORT}`,
    trace: 'retain-on-failure',
    video: 'off',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--use-angle=swiftshader',
        '--enable-unsafe-swiftshader',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run'
      ]
    }
  },
  webServer: {
    command: `jupyter lab --config jupyter_server_test_config.py --ServerApp.port=${PORT}`,
    url: `http://127.0.0.1:${PORT}/lab`,
    timeout: 180000,
    reuseExistingServer: !process.env.CI,
    stdout: 'pipe',
    stderr: 'pipe'
  }
};
