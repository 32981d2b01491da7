import { expect, test } from '@jupyterlab/galata';

import { jobRow, submitFromForm } from './helpers/jobs';
import { fromPalette, openPanel, screenshot } from './helpers/panels';

/**
 * The Jobs panel and the submission form against a real JupyterLab server configured
 * by the demo builder (ESPRI_VRE_DEMO_DIR), whose `local` cluster runs jobs as
 * processes of the server, in Debian's Chromium. The scripts are written in Galata's
 * temporary directory (`tmpPath`), where the file browser opens.
 */

test.describe('Jobs', () => {
  test('a shell script submitted from the form on the local cluster completes, its log is read, and the Jobs tab shows its 40-character name whole', async ({
    page,
    tmpPath
  }) => {
    const stamp = Date.now();
    // As long as names that the sidebar cuts (issue 20): the Jobs tab shows it whole.
    const name = `galata-${stamp}-`.padEnd(40, 'long-name');
    expect(name).toHaveLength(40);
    const greeting = `hello from galata ${stamp}`;
    const script = `${tmpPath}/${name}.sh`;
    expect(
      await page.contents.uploadContent(
        `#!/bin/bash\necho "${greeting}"\n`,
        'text',
        script
      )
    ).toBe(true);

    await fromPalette(page, 'Jobs Panel', 'Open Jobs Panel');
    const panel = page.locator('#espri-vre-jobs-panel');
    await expect(panel).toBeVisible();

    await submitFromForm(page, {
      path: script,
      cluster: 'local',
      name,
      preview: `${name}.sh`
    });

    const row = jobRow(page, panel, 'local', name);
    await expect(row).toHaveAttribute('data-state', 'COMPLETED', {
      timeout: 60000
    });
    await expect(row.locator('.jp-EspriVre-stateBadge')).toHaveText(
      'Completed'
    );
    // Its end notification is told once, in whichever page of the user asks first: a page
    // of the other Galata worker may be told instead, so jobs-notify.spec.ts (run alone)
    // checks the notifications.

    await row.click();
    const details = panel.locator('section.jp-EspriVre-jobDetails');
    await expect(details.locator('dt', { hasText: 'Exit code' })).toBeVisible();
    await expect(
      details.locator('pre.jp-EspriVre-jobLog[data-stream="stdout"]')
    ).toHaveText(`${greeting}\n`);

    await screenshot(panel, 'jobs-panel.png');

    // The Jobs tab of the main area: the name cell holds the whole name, uncut, also
    // in a window narrow enough that the table has to scroll sideways for it.
    await page.setViewportSize({ width: 700, height: 720 });
    const tab = await openPanel(page, 'jobsTab');
    const nameCell = tab.locator(
      'tr.jp-EspriVre-jobRow[data-cluster="local"] .jp-EspriVre-jobName',
      { hasText: name }
    );
    await expect(nameCell).toHaveText(name);
    await expect(nameCell).toHaveAttribute('title', name);
    const fit = await nameCell.evaluate(node => ({
      scrollWidth: node.scrollWidth,
      clientWidth: node.clientWidth
    }));
    expect(fit.scrollWidth).toBeLessThanOrEqual(fit.clientWidth);

    // Its log viewer: a search highlights the match.
    await nameCell.click();
    const tabDetails = tab.locator('section.jp-EspriVre-jobDetails');
    await tabDetails
      .getByRole('searchbox', { name: 'Search the log' })
      .fill('HELLO FROM');
    await expect(
      tabDetails.locator('mark.jp-EspriVre-logMatch[data-current="true"]')
    ).toHaveText('hello from');
  });

  test('the file browser offers Submit as Job on a script and the server’s objection shows next to its field', async ({
    page,
    tmpPath
  }) => {
    const file = 'objection.sh';
    await page.contents.uploadContent(
      '#!/bin/bash\ntrue\n',
      'text',
      `${tmpPath}/${file}`
    );
    await page.filebrowser.refresh();

    await page
      .locator('.jp-DirListing-item', { hasText: file })
      .click({ button: 'right' });
    await page
      .locator('.lm-Menu-item', { hasText: 'Submit as Job' })
      .first()
      .click();

    const form = page.locator('form.jp-EspriVre-submitForm');
    await expect(form).toBeVisible();
    await expect(form.getByLabel('File')).toHaveValue(`${tmpPath}/${file}`);
    await form.getByLabel('Cluster').selectOption('local');
    // An empty field says the cluster's default and where it comes from (issue 20).
    await expect(form.getByLabel('Walltime')).toHaveAttribute(
      'placeholder',
      'cluster default: no limit'
    );
    await form.getByLabel('GPUs').fill('1');

    await expect(
      form.locator('.jp-EspriVre-fieldProblem[data-field="gpus"]')
    ).toContainText('GPU');
    await expect(form.getByLabel('GPUs')).toHaveAttribute(
      'aria-invalid',
      'true'
    );

    // An injection attempt in a dependency is refused next to its field.
    await form.getByLabel('GPUs').fill('');
    await form.getByText('Account, array, dependencies, environment').click();
    await form.getByLabel('Start after these jobs complete').fill('12;reboot');
    await expect(
      form.locator('.jp-EspriVre-fieldProblem[data-field="afterok"]')
    ).toContainText('12;reboot');
    await expect(
      form.getByLabel('Start after these jobs complete')
    ).toHaveAttribute('aria-invalid', 'true');
  });

  test('a notebook has a Submit as Job toolbar button', async ({ page }) => {
    await page.notebook.createNew('toolbar.ipynb');

    const button = page.locator(
      '.jp-NotebookPanel-toolbar [data-jp-item-name="espri-vre-submit-job"] button'
    );
    await expect(button).toBeVisible();
    // Labelled, not an icon alone like the Jobs panel's (issue 20).
    await expect(
      page.locator(
        '.jp-NotebookPanel-toolbar [data-jp-item-name="espri-vre-submit-job"]'
      )
    ).toHaveText('Submit as Job');
    await button.click();

    const form = page.locator('form.jp-EspriVre-submitForm');
    await expect(form).toBeVisible();
    await expect(form.getByLabel('File')).toHaveValue(/toolbar\.ipynb$/);
    await expect(form.getByLabel('Notebook parameters')).toBeVisible();
  });

  test('the demo notebook runs as a job on the real Slurm, its output notebook opens, and it is resubmitted', async ({
    page
  }) => {
    test.setTimeout(300000);
    const name = `demo-nb-${Date.now()}`;
    const panel = await openPanel(page, 'jobs');
    await submitFromForm(page, {
      path: 'notebooks/open_demo_data.ipynb',
      cluster: 'local-slurm',
      name,
      preview: 'papermill'
    });

    const row = jobRow(page, panel, 'local-slurm', name);
    await expect(row).toHaveAttribute('data-state', 'COMPLETED', {
      timeout: 240000
    });
    await row.click();
    const details = panel.locator('section.jp-EspriVre-jobDetails');
    await expect(details.locator('dd', { hasText: `${name}-` })).toBeVisible();
    await details.getByRole('button', { name: 'Open output notebook' }).click();

    // The output notebook, written by papermill next to the input, holds what the job
    // computed: the global mean of the demo field at its first time step.
    const tab = page.locator('.lm-TabBar-tab', { hasText: `${name}-` });
    await expect(tab).toBeVisible();
    const output = page.locator(
      '.jp-NotebookPanel:visible .jp-OutputArea-output',
      {
        hasText: '2000-01-16 12:00:00: '
      }
    );
    await expect(output).toHaveText(/^2000-01-16 12:00:00: \d{3}\.\d{2} K\s*$/);

    // Resubmit: the same recorded parameters, a new job id.
    await openPanel(page, 'jobs');
    await details.getByRole('button', { name: 'Resubmit' }).click();
    await expect(details.locator('.jp-EspriVre-jobActionNote')).toHaveText(
      /^Submitted again as job \d+\.$/
    );
    await expect(jobRow(page, panel, 'local-slurm', name)).toHaveCount(2);
  });
});
