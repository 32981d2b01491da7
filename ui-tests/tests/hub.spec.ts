import { expect, test } from '@playwright/test';
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/**
 * The local JupyterHub (environments/local-hub/start.sh) in Debian's Chromium: a student logs
 * in on the hub's own login page, gets a server with the suite, then opens the class link of
 * the worked example course, which pulls the notebooks and opens the first one.
 *
 * The hub is started here (not by Playwright's webServer, which serves JupyterLab for the
 * other specs) on ESPRI_VRE_TEST_PORT + 20 and the two ports after it.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const RUNTIME = path.join(ROOT, '.test-runtime');
const PORT = Number(process.env.ESPRI_VRE_TEST_PORT || 8988) + 20;
const HUB = `http://127.0.0.1:${PORT}`;
const PASSWORD = 'galata-class';
const DEMO = process.env.ESPRI_VRE_DEMO_DIR || path.join(RUNTIME, 'demo');
const SCREENSHOTS = path.join(RUNTIME, 'screenshots');
const PYTHON = path.join(ROOT, '.venv', 'bin', 'python');

let hub: ChildProcess | undefined;
let classLink = '';

async function waitForHub(deadline: number): Promise<void> {
  for (;;) {
    try {
      const response = await fetch(`${HUB}/hub/login`);
      if (response.ok) {
        return;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`the local hub did not answer on ${HUB}`);
    }
    await new Promise(resolve => setTimeout(resolve, 500));
  }
}

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  test.setTimeout(180000);
  const state = path.join(RUNTIME, `galata-hub-${PORT}`);
  fs.rmSync(state, { recursive: true, force: true });
  fs.mkdirSync(state, { recursive: true });
  // The worked example course, pinned on the demo's data, served from a local git repository.
  const printed = execFileSync(
    PYTHON,
    [
      '-m',
      'espri_vre.cli',
      'course',
      'example',
      path.join(state, 'climate-101'),
      '--demo',
      DEMO,
      '--hub',
      HUB
    ],
    { encoding: 'utf-8' }
  );
  classLink = printed.trim().split(': ').pop() || '';
  expect(classLink).toContain(`${HUB}/hub/spawn?profile=class`);
  const log = fs.openSync(path.join(state, 'hub.log'), 'w');
  hub = spawn(
    'bash',
    [path.join(ROOT, 'environments', 'local-hub', 'start.sh')],
    {
      env: {
        ...process.env,
        ESPRI_VRE_HUB_PORT: String(PORT),
        ESPRI_VRE_HUB_DIR: state,
        ESPRI_VRE_HUB_PASSWORD: PASSWORD,
        ESPRI_VRE_DEMO_DIR: DEMO
      },
      detached: true,
      stdio: ['ignore', log, log]
    }
  );
  await waitForHub(Date.now() + 120000);
});

test.afterAll(async () => {
  if (hub?.pid) {
    // JupyterHub stops the users' servers on SIGTERM; the proxy goes with the group.
    const exited = new Promise(resolve => hub?.once('exit', resolve));
    process.kill(hub.pid, 'SIGTERM');
    await Promise.race([exited, new Promise(r => setTimeout(r, 30000))]);
    try {
      process.kill(-hub.pid, 'SIGTERM');
    } catch {
      // the group is gone already
    }
  }
});

test('a student logs in on the hub page, gets the suite, and the class link opens the course', async ({
  page
}) => {
  test.setTimeout(300000);
  await page.goto(`${HUB}/hub/login`);
  await page.locator('#username_input').fill('student');
  await page.locator('#password_input').fill(PASSWORD);
  await page.locator('#login_submit').click();

  // The hub spawns the server, then JupyterLab loads with the suite's Data panel.
  await page.waitForURL(/\/user\/student\/lab/, { timeout: 180000 });
  const dataTab = page.locator('li[data-id="espri-vre-data-panel"]');
  await expect(dataTab).toBeVisible({ timeout: 120000 });
  await dataTab.click();
  const panel = page.locator('#espri-vre-data-panel');
  await expect(
    panel.locator('li.jp-EspriVre-catalogItem[data-catalog-id="demo-esm"]')
  ).toHaveAttribute('data-reachable', 'true');

  // The class link: nbgitpuller's page pulls, then the suite shows what the course will do;
  // its button applies the course and opens the first notebook.
  await page.goto(classLink);
  const apply = page.locator('#espri-vre-apply-course');
  await expect(apply).toBeVisible({ timeout: 180000 });
  await apply.click();
  await page.waitForURL(
    /\/user\/student\/lab\/tree\/climate-101\/notebooks\/01_first_look\.ipynb/,
    { timeout: 180000 }
  );
  const notebook = page.locator('.jp-NotebookPanel');
  await expect(notebook).toBeVisible({ timeout: 120000 });
  await expect(notebook).toContainText('A first look at a temperature field');
  await expect(notebook).toContainText('open_dataset("tas")');

  // As in the images, the hub's kernels record provenance without being asked.
  await expect(
    notebook.locator('.jp-EspriVre-provenanceState')
  ).toHaveAttribute('data-state', 'recording', { timeout: 60000 });

  // JupyterLab's news question would cover the screenshot.
  const noNews = page.locator('.jp-toast-button', { hasText: 'No' });
  if (await noNews.isVisible()) {
    await noNews.click();
    await expect(noNews).toBeHidden();
  }
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({
    path: path.join(SCREENSHOTS, 'class-link-notebook.png')
  });

  // The course's presets are the Submit-as-job form's presets now.
  await notebook
    .locator('[data-jp-item-name="espri-vre-submit-job"] button')
    .click();
  const form = page.locator('form.jp-EspriVre-submitForm');
  await expect(form).toBeVisible();
  const presets = form.locator('[data-field="preset"] select option');
  await expect(presets).toHaveText([
    'None',
    'Class: 1 core, 1 GB, 10 minutes',
    'Class: 2 cores, 2 GB, 30 minutes'
  ]);
});

test('a wrong password stays on the login page with the hub message', async ({
  page
}) => {
  await page.goto(`${HUB}/hub/login`);
  await page.locator('#username_input').fill('student');
  await page.locator('#password_input').fill('not-the-password');
  await page.locator('#login_submit').click();
  await expect(page.locator('.login_error')).toContainText(
    'Invalid username or password'
  );
  expect(new URL(page.url()).pathname).toBe('/hub/login');
});
