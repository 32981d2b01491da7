import { expect, test } from '@jupyterlab/galata';
import type { APIRequestContext, BrowserContext } from '@playwright/test';

/**
 * Job-end notifications against the real Slurm 22.05 (the demo's `local-slurm`
 * cluster): a job that ends while the page is open raises a notification whose
 * "Open log" button shows the job's log; a job that ends while no page is open is told
 * at the next visit, and an end already told is not told again.
 */

const CLUSTER = 'local-slurm';

async function xsrf(context: BrowserContext): Promise<string> {
  const cookies = await context.cookies();
  return cookies.find(c => c.name === '_xsrf')?.value ?? '';
}

/** Submits a script job through the REST API, as the submission form does. */
async function submit(
  request: APIRequestContext,
  context: BrowserContext,
  path: string
): Promise<string> {
  const response = await request.post('/espri-vre/api/jobs', {
    headers: { 'X-XSRFToken': await xsrf(context) },
    data: {
      cluster: CLUSTER,
      spec: { kind: 'script', path, walltime: '2' }
    }
  });
  expect(response.status()).toBe(201);
  return (await response.json()).id;
}

test.describe('Job-end notifications', () => {
  test('a Slurm job that ends is notified, also when it ended while the page was closed', async ({
    page,
    tmpPath
  }) => {
    const stamp = Date.now();
    const first = `notify-${stamp}`;
    const second = `closed-${stamp}`;
    for (const [name, text] of [
      [first, 'first job here'],
      [second, 'ended while closed']
    ]) {
      expect(
        await page.contents.uploadContent(
          `#!/bin/bash\necho "${text}"\n`,
          'text',
          `${tmpPath}/${name}.sh`
        )
      ).toBe(true);
    }
    const context = page.context();

    await submit(page.request, context, `${tmpPath}/${first}.sh`);
    const toast = page.locator('.jp-Notification-Toast-success', {
      hasText: `Job ${first} (${CLUSTER}) completed.`
    });
    await expect(toast).toBeVisible({ timeout: 40000 });
    await toast.getByRole('button', { name: 'Open log' }).click();
    const details = page.locator('section.jp-EspriVre-jobDetails');
    await expect(details.locator('h3')).toHaveText(first);
    await expect(details.locator('pre.jp-EspriVre-jobLog')).toHaveText(
      'first job here\n'
    );

    // The page is closed; the second job runs and ends meanwhile.
    const request = context.request;
    await page.close();
    const id = await submit(request, context, `${tmpPath}/${second}.sh`);
    await expect
      .poll(
        async () => {
          const answer = await request.get(
            `/espri-vre/api/jobs/${CLUSTER}/${id}`
          );
          return (await answer.json()).state;
        },
        { timeout: 30000 }
      )
      .toBe('COMPLETED');

    const again = await context.newPage();
    await again.goto('lab');
    await expect(
      again.locator('.jp-Notification-Toast-success', {
        hasText: `Job ${second} (${CLUSTER}) completed.`
      })
    ).toBeVisible({ timeout: 30000 });
    // Told once: the first job's end is not told again in the new page.
    await expect(
      again.locator('.jp-Notification-Toast', { hasText: first })
    ).toHaveCount(0);
    await again.close();
  });
});
