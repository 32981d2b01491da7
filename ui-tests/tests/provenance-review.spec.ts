import { expect, test } from '@jupyterlab/galata';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/**
 * The author's and the reviewer's paths on a real run, recorded by a real kernel in batch and
 * exported by `python -m espri_vre.provenance.sample --keep-analysis`. The author declares
 * from the timeline that a cell varies on replay (kept in the cell's metadata, which the
 * replay reads). The reviewer, once the author's folder is deleted (only the crate is left),
 * opens the crate from the file browser, replays it in a fresh kernel from the UI, and reads
 * the reproducibility report: per-cell verdicts, the files each cell wrote compared (one
 * identical, one declared to vary, one that differs undeclared), and the input read from the
 * crate's copy.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const PYTHON = path.join(ROOT, '.venv', 'bin', 'python');
// The server's root folder (jupyter_server_test_config.py): the demo's.
const SERVER_ROOT =
  process.env.ESPRI_VRE_DEMO_DIR ?? path.join(ROOT, '.test-runtime', 'demo');
// Its own folder: the other worker's specs never see it.
const FOLDER = `provenance-review-${process.pid}-${Date.now()}`;

test.describe('Provenance: a reviewer replays a received crate', () => {
  // The author declares before the reviewer deletes the author's folder.
  test.describe.configure({ mode: 'serial' });

  test.beforeAll(() => {
    execFileSync(
      PYTHON,
      [
        '-m',
        'espri_vre.provenance.sample',
        path.join(SERVER_ROOT, FOLDER),
        '--keep-analysis'
      ],
      { stdio: 'pipe', timeout: 60000 }
    );
  });

  test.afterAll(() => {
    fs.rmSync(path.join(SERVER_ROOT, FOLDER), { recursive: true, force: true });
  });

  test('the author declares from the timeline that a cell varies', async ({
    page
  }) => {
    const notebook = `${FOLDER}/analysis/stations.ipynb`;
    // The batch run's id: opening the notebook starts a kernel of its own.
    const [log] = fs.readdirSync(
      path.join(
        SERVER_ROOT,
        FOLDER,
        'analysis',
        '.espri-vre-provenance',
        'stations'
      )
    );
    await page.notebook.openByPath(notebook);
    await page.evaluate(
      async args => {
        await window.jupyterapp.commands.execute(
          'espri-vre:provenance-timeline',
          args
        );
      },
      { path: notebook, run: log.replace(/\.jsonl$/, '') }
    );
    const executions = page.locator(
      '.jp-EspriVre-provenancePanel li.jp-EspriVre-provExecution'
    );
    await expect(executions).toHaveCount(4);
    // [3] is declared in the notebook; [4] (the time) is not, until the author says so.
    await expect(
      executions.nth(2).locator('.jp-EspriVre-provDeclared')
    ).toHaveText('declared: varies: an unseeded random draw');
    await expect(
      executions.nth(3).locator('.jp-EspriVre-provDeclared')
    ).toHaveCount(0);
    await executions.nth(3).locator('.jp-EspriVre-provDeclare').click();
    await page.locator('.jp-Dialog input').fill('the current time');
    await page.locator('.jp-Dialog .jp-mod-accept').click();
    await expect(
      executions.nth(3).locator('.jp-EspriVre-provDeclared')
    ).toHaveText('declared: varies: the current time');

    // [2] sums floats: the author declares a tolerance for it alone. Text the replay could
    // not read is refused, saying why, and nothing is written.
    const declareTolerance = async (tolerances: string): Promise<void> => {
      await executions
        .nth(1)
        .locator('.jp-EspriVre-provDeclareTolerance')
        .click();
      await page.locator('.jp-Dialog input').fill(tolerances);
      await page.locator('.jp-Dialog .jp-mod-accept').click();
      await page.locator('.jp-Dialog input').fill('a float sum');
      await page.locator('.jp-Dialog .jp-mod-accept').click();
    };
    await declareTolerance('rtol=abc');
    await expect(page.locator('.jp-Dialog')).toContainText(
      '"rtol=abc" is not a tolerance such as "rtol=1e-3, atol=0"'
    );
    await page.locator('.jp-Dialog .jp-mod-reject').click(); // "Close"
    await expect(
      executions.nth(1).locator('.jp-EspriVre-provDeclared')
    ).toHaveCount(0);
    await declareTolerance('rtol=1e-3, atol=0');
    await expect(
      executions.nth(1).locator('.jp-EspriVre-provDeclared')
    ).toHaveText('declared: rtol=0.001, atol=0: a float sum');

    const kept = await page.evaluate(path => {
      const tracker = window.jupyterapp.shell.widgets('main');
      for (const widget of tracker) {
        const panel = widget as unknown as {
          context?: { path: string };
          content: {
            model: {
              cells: {
                get: (i: number) => { getMetadata: (k: string) => unknown };
              };
            };
          };
        };
        if (panel.context?.path === path) {
          return panel.content.model.cells.get(4).getMetadata('espri-vre');
        }
      }
      return null;
    }, notebook);
    expect(kept).toEqual({ replay: 'varies', reason: 'the current time' });
    // Its kernel ends now: none writes into the author's folder once it is deleted.
    await page.evaluate(async path => {
      for (const widget of window.jupyterapp.shell.widgets('main')) {
        const panel = widget as unknown as {
          context?: { path: string };
          sessionContext?: { shutdown: () => Promise<void> };
        };
        if (panel.context?.path === path) {
          await panel.sessionContext?.shutdown();
        }
      }
    }, notebook);
  });

  test('open the crate, validate and replay it, read the report', async ({
    page
  }) => {
    test.setTimeout(210000);
    // The reviewer has the crate only.
    fs.rmSync(path.join(SERVER_ROOT, FOLDER, 'analysis'), {
      recursive: true,
      force: true
    });
    await page.filebrowser.openDirectory(FOLDER);
    // The author's folder is gone: the crate is all the reviewer has.
    await expect(page.locator('.jp-DirListing-item')).toHaveCount(1);
    await page
      .locator('.jp-DirListing-item[data-isdir="true"]', { hasText: 'crate' })
      .click({ button: 'right' });
    await page.getByRole('menuitem', { name: 'Open as RO-Crate' }).click();

    const crate = page.locator('.jp-EspriVre-provCrate');
    await expect(crate.locator('dd').first()).toHaveText(
      `${FOLDER}/crate/stations.ipynb`
    );
    await expect(crate.locator('.jp-EspriVre-provCrateFiles')).toContainText(
      'stations.csv'
    );
    // The reviewer checks the crate with an independent validator (roc-validator on the
    // server, served the genuine RO-Crate contexts) before replaying it.
    await crate.locator('.jp-EspriVre-provValidate').click();
    const validation = crate.locator('.jp-EspriVre-provValidationResult');
    await expect(validation).toHaveAttribute('data-passed', 'yes', {
      timeout: 120000
    });
    await expect(validation).toContainText(
      'Valid: every REQUIRED check of provenance-run-crate-0.5 passes'
    );
    await expect(validation).toContainText(
      'https://w3id.org/ro/crate/1.1/context'
    );
    await crate.locator('.jp-EspriVre-provReplay').click();

    const report = page.locator('.jp-EspriVre-provReport');
    const summary = report.locator('.jp-EspriVre-provSummary');
    await expect(summary).toBeVisible({ timeout: 60000 });
    await expect(report).toHaveAttribute(
      'data-report-dir',
      `${FOLDER}/crate-replay`
    );
    await expect(summary.locator('[data-verdict="identical"]')).toHaveText(
      'identical: 2'
    );
    await expect(summary.locator('[data-verdict="differs"]')).toHaveText(
      'differs: 2'
    );

    const cells = report.locator('li.jp-EspriVre-provCell');
    await expect(cells).toHaveCount(4);
    // [2] wrote the mean: the replay wrote the same bytes, in its own folder.
    const mean = cells.nth(1).locator('.jp-EspriVre-provOutputs li');
    await expect(mean).toHaveAttribute('data-verdict', 'identical');
    await expect(mean).toHaveAttribute('data-original', /analysis\/mean\.txt$/);
    await expect(mean).toContainText('crate-replay/work/mean.txt');
    // [3] drew a random number, declared to vary: it differs, with the reason.
    await expect(cells.nth(2)).toHaveAttribute('data-verdict', 'differs');
    await expect(cells.nth(2)).toHaveAttribute('data-declared', 'true');
    await expect(cells.nth(2).locator('.jp-EspriVre-provDeclared')).toHaveText(
      'declared: varies: an unseeded random draw'
    );
    await expect(
      cells.nth(2).locator('.jp-EspriVre-provOutputs li')
    ).toHaveAttribute('data-verdict', 'differs');
    // [4] wrote the time, not declared: it differs, with the diff of the file.
    await expect(cells.nth(3)).toHaveAttribute('data-declared', 'false');
    const stamp = cells.nth(3).locator('.jp-EspriVre-provOutputs li');
    await expect(stamp).toHaveAttribute('data-verdict', 'differs');
    await expect(stamp).toHaveAttribute('data-original', /stamp\.txt$/);
    await expect(stamp.locator('.jp-EspriVre-provReason')).toContainText(
      'text differs:'
    );
    await expect(stamp.locator('pre.jp-EspriVre-provDiff')).toContainText(
      '--- recorded'
    );

    // The input was read from the crate's copy, by the first cell.
    const input = report.locator('.jp-EspriVre-provInputs li');
    await expect(input).toHaveCount(1);
    await expect(input).toHaveAttribute('data-status', 'ok');
    await expect(input).toHaveAttribute('data-source', 'crate');
    await expect(input).toContainText('stations.csv');
    await expect(input.locator('.jp-EspriVre-provReadBy')).toContainText(
      'read by [1]'
    );
  });
});
