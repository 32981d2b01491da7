import { expect, test } from '@jupyterlab/galata';

import { openPanel, screenshot } from './helpers/panels';

/**
 * Dask on the real Slurm of the test set-up, from the Dask panel: a cluster of two workers
 * started from the demo's `local-slurm` preset (through dask-labextension's cluster
 * manager), a notebook that connects to it with the code the panel inserts and computes on
 * the workers, a dashboard opened in JupyterLab, a scale to one worker, and the stop.
 */

test.describe('Dask', () => {
  test.setTimeout(300000);

  test('a two-worker Dask cluster on the real Slurm: start, compute from a notebook, scale, stop', async ({
    page
  }) => {
    const panel = await openPanel(page, 'dask');
    const form = panel.locator('form.jp-EspriVre-daskStart');
    await form.getByLabel('Cluster').selectOption('local-slurm');
    await form.getByLabel('Preset').selectOption('small');
    await expect(form.locator('.jp-EspriVre-daskPresetSummary')).toHaveText(
      '2 workers (1 core, 1G, 00:30:00) on debug'
    );

    // More workers than the cluster allows: refused in the panel, nothing started.
    await form.getByLabel('Workers', { exact: true }).fill('3');
    await form.getByRole('button', { name: 'Start Dask cluster' }).click();
    await expect(form.locator('.jp-EspriVre-error')).toHaveText(
      'At most 2 workers can be started on Local Slurm.'
    );
    await form.getByLabel('Workers', { exact: true }).fill('');

    await form.getByRole('button', { name: 'Start Dask cluster' }).click();
    const card = panel.locator(
      '.jp-EspriVre-daskCluster[data-name^="local-slurm-small-"]'
    );
    await expect(card).toHaveCount(1, { timeout: 60000 });
    await expect(card.locator('.jp-EspriVre-daskWorkers')).toHaveAttribute(
      'data-workers',
      '2',
      { timeout: 180000 }
    );
    await expect(card.locator('.jp-EspriVre-daskWorkers')).toContainText(
      'RUNNING 2'
    );
    await screenshot(page, 'dask-panel.png');

    // The worker jobs are jobs of the cluster, tagged in the Jobs panel.
    const name = await card.getAttribute('data-name');
    const jobs = await openPanel(page, 'jobs');
    const workerRows = jobs.locator('tr', {
      hasText: `dask-${name}`
    });
    await expect(workerRows).toHaveCount(2, { timeout: 60000 });
    await expect(workerRows.locator('.jp-EspriVre-daskTag')).toHaveCount(2);

    // The code the panel inserts connects a notebook's kernel to the workers.
    await page.notebook.createNew('dask-client.ipynb');
    await openPanel(page, 'dask');
    await card.getByRole('button', { name: 'Insert into notebook' }).click();
    await expect(
      page.locator('.jp-Notebook .jp-Cell', {
        hasText: 'from dask.distributed import Client'
      })
    ).toHaveCount(1);
    await page.notebook.addCell(
      'code',
      [
        'import os, socket',
        'workers = client.run(lambda: os.environ.get("SLURM_JOB_ID"))',
        'print(len(workers), all(workers.values()), client.submit(sum, [40, 2]).result())'
      ].join('\n')
    );
    await page.notebook.run();
    const last = (await page.notebook.getCellCount()) - 1;
    expect(await page.notebook.getCellTextOutput(last)).toEqual([
      '2 True 42\n'
    ]);

    // A dashboard, proxied by dask-labextension, in a JupyterLab panel.
    await openPanel(page, 'dask');
    await card.getByRole('button', { name: 'Workers' }).click();
    const frame = page.locator(
      '.jp-MainAreaWidget iframe[src*="/dask/dashboard/"]'
    );
    await expect(frame).toHaveCount(1);
    const src = (await frame.getAttribute('src')) ?? '';
    expect(src).toMatch(/\/dask\/dashboard\/[\w-]+\/individual-workers$/);
    expect((await page.request.get(src)).status()).toBe(200);

    // Scale to one worker, then stop: the card goes away.
    await openPanel(page, 'dask');
    await card.locator('form.jp-EspriVre-daskScale input').fill('1');
    await card.getByRole('button', { name: 'Scale' }).click();
    await expect(card.locator('.jp-EspriVre-daskWorkers')).toHaveAttribute(
      'data-workers',
      '1',
      { timeout: 120000 }
    );
    // Adaptive within the cluster's cap, as dask-labextension's manager reports it.
    await card.getByRole('button', { name: 'Adaptive' }).click();
    await expect(card.locator('.jp-EspriVre-daskAdapt')).toHaveText(
      ' · adaptive, 0 to 2'
    );
    await card.getByRole('button', { name: 'Stop' }).click();
    await expect(card).toHaveCount(0, { timeout: 60000 });
  });
});
