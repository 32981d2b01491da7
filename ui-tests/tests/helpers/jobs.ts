import { expect, IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

import { runCommand } from './panels';

/** The Jobs panel's (or the Jobs tab's) row of the job `name` on `cluster`. */
export function jobRow(
  page: IJupyterLabPageFixture,
  scope: Locator,
  cluster: string,
  name: string
): Locator {
  return scope.locator(`tr.jp-EspriVre-jobRow[data-cluster="${cluster}"]`, {
    has: page.locator('.jp-EspriVre-jobName', { hasText: name })
  });
}

/**
 * Submits the file `path` from the submission form to `cluster` as the job `name`, once
 * the form's script preview shows `preview`: the form closes when the server took it.
 */
export async function submitFromForm(
  page: IJupyterLabPageFixture,
  job: { path: string; cluster: string; name: string; preview: string }
): Promise<void> {
  await runCommand(page, 'espri-vre:submit-job', { path: job.path });
  const form = page.locator('form.jp-EspriVre-submitForm');
  await expect(form).toBeVisible();
  await form.getByLabel('Cluster').selectOption(job.cluster);
  await expect(form.getByLabel('File')).toHaveValue(job.path);
  await form.getByLabel('Job name').fill(job.name);
  await expect(form.locator('pre.jp-EspriVre-scriptPreview')).toContainText(
    job.preview
  );
  await form.getByRole('button', { name: 'Submit' }).click();
  await expect(form).toBeHidden();
}
