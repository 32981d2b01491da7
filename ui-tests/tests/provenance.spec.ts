import { expect, test } from '@jupyterlab/galata';
import * as path from 'path';

/**
 * Provenance in JupyterLab against a real server and a real kernel that records (the demo's
 * kernels load espri_vre): the toolbar shows the recording, the notebook keeps the run id and
 * last hash, the timeline lists the cells with the files they read and wrote, the graph links
 * them, the crate is exported, replayed in a fresh kernel, and its report read in JupyterLab.
 */

const CELLS = [
  "n = open('prov-input.txt', 'w').write('21')",
  "x = int(open('prov-input.txt').read())\nprint('twice', 2 * x)",
  'import random\nprint(random.random())'
];

// Tests never write tracked files: `npm run docs:images` copies the ones the docs show.
const SCREENSHOTS = path.resolve(
  __dirname,
  '..',
  '..',
  '.test-runtime',
  'screenshots'
);

test.describe('Provenance', () => {
  test('record, timeline, graph, export, replay and report', async ({
    page
  }) => {
    test.setTimeout(300000);
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.notebook.createNew('provenance-demo.ipynb');
    for (let i = 0; i < CELLS.length; i++) {
      if (i > 0) {
        await page.notebook.addCell('code', CELLS[i]);
      } else {
        await page.notebook.setCell(0, 'code', CELLS[0]);
      }
    }
    await page.notebook.runCellByCell();
    await expect(
      page
        .locator('.jp-NotebookPanel .jp-Cell')
        .nth(1)
        .locator('.jp-OutputArea-output')
    ).toContainText('twice 42');

    const indicator = page.locator(
      '.jp-NotebookPanel-toolbar .jp-EspriVre-provenanceState'
    );
    await expect(indicator).toHaveAttribute('data-state', 'recording', {
      timeout: 30000
    });
    // "recording" also before the log opens (the kernel waits for its first cell): the
    // run id comes with the indicator's next look after the cells ran.
    await expect(indicator).toHaveAttribute(
      'data-run',
      /^\d{8}T\d{6}Z-[0-9a-f]+$/,
      { timeout: 30000 }
    );
    const run = await indicator.getAttribute('data-run');

    // The notebook keeps the run id and the last hash, nothing else.
    const kept = await page.evaluate(() => {
      const widget = window.jupyterapp.shell.currentWidget as unknown as {
        content: { model: { getMetadata: (k: string) => unknown } };
      };
      return widget.content.model.getMetadata('espri_vre') as {
        provenance: { run: string; last_hash: string };
      };
    });
    expect(kept.provenance.run).toBe(run);
    expect(kept.provenance.last_hash).toMatch(/^[0-9a-f]{64}$/);
    await page.notebook.save();

    // The timeline: three executions, the read linked to the cell that wrote the file.
    await indicator.click();
    const panel = page.locator('.jp-EspriVre-provenancePanel').first();
    const executions = panel.locator('li.jp-EspriVre-provExecution');
    await expect(executions).toHaveCount(3);
    await expect(executions.nth(1).locator('li[data-op="read"]')).toContainText(
      'prov-input.txt'
    );
    await expect(executions.nth(1).locator('li[data-op="read"]')).toContainText(
      'written by [1]'
    );
    await expect(panel.locator('.jp-EspriVre-provVerification')).toHaveClass(
      /jp-mod-ok/
    );
    // The log lies in the hidden folder beside the notebook: the panel names it, the file
    // browser does not show it (nor a provenance-demo.provenance folder).
    await expect(panel.locator('.jp-EspriVre-provLogPath code')).toHaveText(
      new RegExp(`(^|/)\\.espri-vre-provenance/provenance-demo/${run}\\.jsonl$`)
    );
    await page.filebrowser.refresh();
    const listing = page.locator('.jp-DirListing-content');
    await expect(listing).toContainText('provenance-demo.ipynb');
    await expect(listing).not.toContainText('.espri-vre-provenance');
    await expect(listing).not.toContainText('provenance-demo.provenance');
    await panel.screenshot({
      path: path.join(SCREENSHOTS, 'provenance-timeline.png')
    });

    await panel.getByRole('tab', { name: 'Reads and writes' }).click();
    const graph = panel.locator('svg.jp-EspriVre-provGraph');
    await expect(graph.locator('[data-node^="cell:"]')).toHaveCount(3);
    await expect(graph.locator('[data-node^="file:"]')).toHaveCount(1);
    await expect(graph.locator('path.jp-EspriVre-provEdge')).toHaveCount(2);
    await expect(panel.locator('.jp-EspriVre-provFlows li')).toContainText(
      '[2] read what [1] wrote'
    );

    // Export, then replay the crate in a fresh kernel and read the report.
    await panel.locator('.jp-EspriVre-provExport').click();
    const crate = page.locator('.jp-EspriVre-provCrate');
    await expect(crate.locator('h3')).toContainText('Files');
    await expect(crate).toContainText('provenance-demo.ipynb');
    await crate.locator('.jp-EspriVre-provReplay').click();
    const summary = page.locator(
      '.jp-EspriVre-provReport .jp-EspriVre-provSummary'
    );
    await expect(summary).toBeVisible({ timeout: 180000 });
    await expect(summary.locator('[data-verdict="identical"]')).toHaveText(
      'identical: 2'
    );
    await expect(summary.locator('[data-verdict="differs"]')).toHaveText(
      'differs: 1'
    );
    const differs = page.locator(
      'li.jp-EspriVre-provCell[data-verdict="differs"]'
    );
    await expect(differs.locator('pre.jp-EspriVre-provDiff')).toContainText(
      '--- recorded'
    );
    await expect(
      page.locator('.jp-EspriVre-provInputs li[data-status="ok"]')
    ).toHaveCount(0); // the input was written by the run itself: not an input
    await page
      .locator('.jp-EspriVre-provReport')
      .first()
      .screenshot({ path: path.join(SCREENSHOTS, 'provenance-report.png') });

    // The report opens again from its folder, as a reviewer would.
    const reportDir =
      (await page
        .locator('.jp-EspriVre-provReport')
        .first()
        .getAttribute('data-report-dir')) ?? '';
    expect(reportDir).toMatch(/provenance-demo-crate-replay$/);
    await page.evaluate(async reportPath => {
      await window.jupyterapp.commands.execute(
        'espri-vre:provenance-open-report',
        { path: reportPath }
      );
    }, reportDir);
    await expect(
      page
        .locator('.jp-EspriVre-provenancePanel')
        .last()
        .locator('[data-verdict="differs"]')
        .first()
    ).toBeVisible();
  });
});
