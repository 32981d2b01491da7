import { expect, test } from '@jupyterlab/galata';

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

  await page.evaluate(async file => {
    await window.jupyterapp.commands.execute('espri-vre:submit-job', {
      path: file
    });
  }, script);
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

  await page.evaluate(async () => {
    await window.jupyterapp.commands.execute('espri-vre:open-jobs-tab');
  });
  const tab = page.locator('#espri-vre-jobs');
  const nameCell = tab.locator('.jp-EspriVre-jobName', { hasText: name });
  await expect(nameCell).toHaveText(name);
  const header = tab.locator('th[data-column="name"]');
  const before = (await header.boundingBox())!;
  const border = (await tab
    .locator('[role="separator"][data-column="name"]')
    .boundingBox())!;

  // Drag the name column's right border 120 pixels to the right.
  const y = border.y + border.height / 2;
  await page.mouse.move(border.x + border.width / 2, y);
  await page.mouse.down();
  await page.mouse.move(border.x + border.width / 2 + 120, y, { steps: 6 });
  await page.mouse.up();
  const widened = Math.round(before.width) + 120;
  await expect(tab.locator('table.jp-EspriVre-jobsTable')).toHaveAttribute(
    'data-sized',
    'true'
  );
  expect(
    Math.abs((await header.boundingBox())!.width - widened)
  ).toBeLessThanOrEqual(1);

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
  await expect(
    again.locator('.jp-EspriVre-jobName', { hasText: name })
  ).toHaveText(name, { timeout: 120000 });
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
  const fit = await again
    .locator('.jp-EspriVre-jobName', { hasText: name })
    .evaluate(node => node.scrollWidth <= node.clientWidth);
  expect(fit).toBe(true);
});
