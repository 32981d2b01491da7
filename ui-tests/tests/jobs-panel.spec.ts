import { expect, test } from '@jupyterlab/galata';

import { jobRow } from './helpers/jobs';
import { openPanel, runCommand } from './helpers/panels';

/**
 * The Jobs tab's resizable columns and the submission form's defaults (issue 20), against
 * the demo's configuration (ESPRI_VRE_DEMO_DIR): its `local-slurm` cluster is the real
 * Slurm (partitions debug, DefaultTime=10, and gpu, DefaultTime=30), only read here
 * (sinfo, and sbatch --test-only for the start estimate, which submits nothing); the one
 * job submitted runs on the `local` cluster, as a process of the server. Galata keeps
 * this test's settings and workspace in memory, apart from the other worker's.
 */
test('the Jobs tab keeps a column width dragged across a reload, and the form shows defaults as values with their source', async ({
  page,
  tmpPath
}) => {
  // As long as names that the sidebar cuts: the Jobs tab shows it whole.
  const name = `columns-${Date.now()}-`.padEnd(40, 'x');
  const script = `${tmpPath}/${name}.sh`;
  expect(
    await page.contents.uploadContent('#!/bin/bash\ntrue\n', 'text', script)
  ).toBe(true);

  await runCommand(page, 'espri-vre:submit-job', { path: script });
  const form = page.locator('form.jp-EspriVre-submitForm');
  await expect(form).toBeVisible();

  // On Slurm, the walltime left empty shows the partition's DefaultTime as its value,
  // with its source; nothing is sent for it (the batch script has no --time).
  await form.getByLabel('Cluster').selectOption('local-slurm');
  const walltime = form.getByLabel('Walltime');
  const note = form.locator(
    '[data-field="walltime"] .jp-EspriVre-fieldDefault'
  );
  await expect(walltime).toHaveValue('00:10:00');
  await expect(note).toHaveText('partition default: 00:10:00');
  await form.getByLabel('Partition or queue').selectOption('gpu');
  await expect(walltime).toHaveValue('00:30:00');
  await expect(note).toHaveText('partition default: 00:30:00');
  const preview = form.locator('pre.jp-EspriVre-scriptPreview');
  await expect(preview).toContainText('#SBATCH --partition=gpu');
  await expect(preview).not.toContainText('--time');
  // Shown as a value in the text's colour, as its note (not a placeholder's grey).
  const colours = await walltime.evaluate(node => [
    getComputedStyle(node).color,
    getComputedStyle(
      node.parentElement!.querySelector('.jp-EspriVre-fieldDefault')!
    ).color
  ]);
  expect(colours[0]).toBe(colours[1]);
  // Typed, it is the user's and is sent.
  await walltime.fill('00:20:00');
  await expect(note).toHaveCount(0);
  await expect(preview).toContainText('--time=00:20:00');

  // The job itself on the local back end (whose one partition is not called gpu).
  await form.getByLabel('Partition or queue').selectOption('');
  await walltime.fill('');
  await form.getByLabel('Cluster').selectOption('local');
  await form.getByLabel('Job name').fill(name);
  await expect(preview).toContainText(`${name}.sh`);
  await form.getByRole('button', { name: 'Submit' }).click();
  await expect(form).toBeHidden();

  const tab = await openPanel(page, 'jobsTab');
  await expect(
    jobRow(page, tab, 'local', name).locator('.jp-EspriVre-jobName')
  ).toHaveText(name);
  const header = tab.locator('th[data-column="name"]');
  const separator = tab.locator('[role="separator"][data-column="name"]');
  /**
   * Drags the name column's right border `dx` pixels sideways, as a hand does: the
   * pointer over the header first, where the columns hold still while the job list
   * refreshes (fitted to their content, they move with the rows), then on the border.
   */
  const drag = async (dx: number): Promise<void> => {
    await tab.locator('thead').hover();
    const border = (await separator.boundingBox())!;
    const x = border.x + border.width / 2;
    const y = border.y + border.height / 2;
    await page.mouse.move(x, y);
    await page.mouse.down();
    await page.mouse.move(x + dx, y, { steps: 6 });
    await page.mouse.up();
  };
  const width = async (): Promise<number> =>
    (await header.boundingBox())!.width;

  // Until a first drag the columns share the tab's width by their content (a width
  // that moves as rows refresh); the drag fixes every column at its width shown then.
  const fitted = await width();
  const table = tab.locator('table.jp-EspriVre-jobsTable');
  // The pointer over the header holds them at the widths shown then (the table laid
  // out from its columns' widths), saving nothing.
  await tab.locator('thead').hover();
  await expect(table).toHaveAttribute('data-held', 'true');
  await expect(table).toHaveAttribute('data-sized', 'false');
  const held = await tab
    .locator('col[data-column="name"]')
    .evaluate(col => parseFloat((col as HTMLElement).style.width));
  expect(Math.abs((await width()) - held)).toBeLessThanOrEqual(1);
  await drag(120);
  await expect(table).toHaveAttribute('data-sized', 'true');
  await expect(table).toHaveAttribute('data-held', 'false');
  const first = Number(await separator.getAttribute('aria-valuenow'));
  expect(first).toBeGreaterThan(fitted + 60);
  expect(Math.abs((await width()) - first)).toBeLessThanOrEqual(1);
  // From then on the column follows the pointer exactly.
  await drag(-40);
  const widened = first - 40;
  await expect(separator).toHaveAttribute('aria-valuenow', String(widened));
  expect(Math.abs((await width()) - widened)).toBeLessThanOrEqual(1);

  // Written to the panel's settings (the in-memory settings of this test).
  await expect
    .poll(async () =>
      page.evaluate(async () => {
        const answer = await fetch('/lab/api/settings/@espri-vre/jobs:panel');
        return ((await answer.json()).settings?.columnWidths?.tab?.name ??
          null) as number | null;
      })
    )
    .toBe(widened);

  // A plain reload (Galata's own waits for a Launcher tab, which the restored layout
  // has not): the Jobs tab comes back by itself, its widths from the settings.
  await page.mainFrame().goto(page.url(), { waitUntil: 'domcontentloaded' });
  const again = page.locator('#espri-vre-jobs');
  const againName = jobRow(page, again, 'local', name).locator(
    '.jp-EspriVre-jobName'
  );
  await expect(againName).toHaveText(name, { timeout: 120000 });
  await expect(again.locator('col[data-column="name"]')).toHaveAttribute(
    'style',
    `width: ${widened}px;`
  );
  expect(
    Math.abs(
      (await again.locator('th[data-column="name"]').boundingBox())!.width -
        widened
    )
  ).toBeLessThanOrEqual(1);
  // The whole name still fits its widened column.
  const fit = await againName.evaluate(
    node => node.scrollWidth <= node.clientWidth
  );
  expect(fit).toBe(true);
});
