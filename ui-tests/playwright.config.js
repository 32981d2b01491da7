/**
 * Galata configuration: JupyterLab started by `jupyter lab` with jupyter_server_test_config.py,
 * driven in Debian's Chromium (no browser download works on these machines).
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');
const path = require('path');

const PORT = Number(process.env.ESPRI_VRE_TEST_PORT || 8988);
const RESULTS = path.resolve(__dirname, '..', '.test-runtime', 'results');
// scripts/test.sh runs the projects in separate invocations, each with its own JUnit report
// and its own output folder (Playwright empties the output folder when it starts).
const REPORT = process.env.ESPRI_VRE_GALATA_REPORT || 'galata.xml';
const OUTPUT = `galata-output${REPORT === 'galata.xml' ? '' : '-' + path.basename(REPORT, '.xml')}`;
// The specs that submit jobs to the one-node real Slurm (or start Dask workers on it)
// run one at a time: two of them together would queue behind each other's jobs and
// see each other's jobs in the list.
const SLURM_SPECS = /\/(jobs|dask)\.spec\.ts$/;
// Job-end notifications are told once, in whichever page of the user asks first
// (jobs/notifications.py): with a page of another spec open in the other worker, that
// page may be told instead. These specs run alone, after the others.
const ALONE_SPECS = /\/jobs-notify\.spec\.ts$/;

module.exports = {
  ...baseConfig,
  timeout: 120000,
  expect: { timeout: 30000 },
  // A test that passes only on a second try is a bug to fix, not a pass: no retries. If a run
  // asks for them (--retries), the JUnit report keeps the failed tries (flakyFailure) and
  // scripts/junit_summary.py counts such a test as failed, labelled flaky.
  retries: 0,
  // Two workers on the one JupyterLab server: most of a UI test is waiting (kernels,
  // Slurm, the server), so the second worker fills that time (about a third less wall
  // time for the whole suite on 2 cores). Specs must not depend on what another spec
  // does meanwhile; ESPRI_VRE_GALATA_WORKERS=1 runs them one after the other.
  workers: Number(process.env.ESPRI_VRE_GALATA_WORKERS || 2),
  projects: [
    { name: 'slurm', testMatch: SLURM_SPECS, workers: 1 },
    { name: 'ui', testIgnore: [SLURM_SPECS, ALONE_SPECS] },
    // After the others. scripts/test.sh runs it by itself (--no-deps, its own report)
    // so that it runs, and is reported, also when a test of the others failed.
    { name: 'alone', testMatch: ALONE_SPECS, dependencies: ['slurm', 'ui'] }
  ],
  outputDir: path.resolve(__dirname, '..', '.test-runtime', OUTPUT),
  reporter: [
    ['list'],
    [
      'junit',
      {
        outputFile: path.join(RESULTS, REPORT),
        includeRetries: true
      }
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
