// @vitest-environment jsdom
import type {
  JobClustersResponse,
  JobInfo,
  JobListResponse,
  JobPreviewResponse,
  JobSpec
} from '@espri-vre/core';
import { nullTranslator } from '@jupyterlab/translation';
import {
  cleanup,
  fireEvent,
  render,
  screen,
  waitFor
} from '@testing-library/react';
import * as React from 'react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JobService } from '../src/service';
import { emptyForm, formToSpec, specToForm } from '../src/spec-form';
import { SubmitJobForm } from '../src/submit-form';
import { type ApiAnswer, JobsApiServer } from './api-server';
import clustersFixture from './fixtures/clusters.json';
import jobsFixture from './fixtures/jobs.json';
import previewFixture from './fixtures/preview.json';
import { renderSubmitForm } from './render-form';

const trans = nullTranslator.load('espri_vre');
const CLUSTERS = clustersFixture as JobClustersResponse;
const LISTING = jobsFixture as JobListResponse;
const PREVIEW = previewFixture as JobPreviewResponse;
const ADDRESS = 'ada@climate-lab.example.org';
/** The server's own sentence for this address (validation.check_mail_address). */
const REFUSAL =
  "the e-mail address '$(id)@example.org' holds $ ( ), which addresses here may not contain";

/**
 * A real HTTP server playing the Jobs API with the recorded clusters (a local back end
 * and a Slurm cluster): it refuses a preview whose address holds shell characters, as
 * the server does, and records what is submitted.
 */
let posted: { cluster: string; spec: JobSpec }[] = [];
let clustersAnswer: unknown = CLUSTERS;

const api = new JobsApiServer(({ method, route, body }): ApiAnswer => {
  const sent = body as { cluster: string; spec: JobSpec };
  if (route === 'jobs/clusters') {
    return [200, clustersAnswer];
  } else if (route === 'jobs/estimate') {
    return [200, { start_time: null, detail: 'no estimate', partitions: [] }];
  } else if (route === 'jobs/preview') {
    return sent.spec.mail?.address.includes('$')
      ? [
          400,
          {
            error: 'invalid-job',
            detail: `The job was refused: ${REFUSAL}.`,
            problems: [{ field: 'mail.address', message: REFUSAL }]
          }
        ]
      : [200, PREVIEW];
  } else if (method === 'POST' && route === 'jobs') {
    posted.push(sent);
    const job: JobInfo = { ...LISTING.jobs[0], id: '3' };
    return [201, job];
  }
  return undefined;
});

beforeAll(() => api.start());
afterAll(() => api.stop());

afterEach(() => {
  cleanup();
  posted = [];
  clustersAnswer = CLUSTERS;
});

/** The recorded clusters, the Slurm one's `mail` replaced (undefined: left out). */
function slurmMail(mail: boolean | undefined): unknown {
  return {
    clusters: CLUSTERS.clusters.map(c => {
      if (c.kind !== 'slurm') {
        return c;
      }
      const { mail: _recorded, ...rest } = c;
      return mail === undefined ? rest : { ...rest, mail };
    })
  };
}

describe('the mail field of a job', () => {
  it('becomes the spec’s mail, and comes back from it', () => {
    const form = {
      ...emptyForm('hello.sh', 'gpu-slurm'),
      mail_address: ` ${ADDRESS} `,
      mail_when: 'fail' as const
    };
    const { spec, problems } = formToSpec(form, trans);
    expect(problems).toEqual([]);
    expect(spec?.mail).toEqual({ address: ADDRESS, when: 'fail' });
    expect(specToForm(spec!, 'local')).toMatchObject({
      mail_address: ADDRESS,
      mail_when: 'fail'
    });
    const none = formToSpec(emptyForm('hello.sh', 'gpu-slurm'), trans);
    expect(none.spec).not.toHaveProperty('mail');
  });

  it('refuses several addresses, naming the field', () => {
    const form = {
      ...emptyForm('hello.sh', 'gpu-slurm'),
      mail_address: `${ADDRESS}, root@localhost`
    };
    const { spec, problems } = formToSpec(form, trans);
    expect(spec).toBeNull();
    expect(problems).toEqual([
      {
        field: 'mail.address',
        message: `Give one e-mail address: ${ADDRESS}, root@localhost`
      }
    ]);
  });

  it('is offered on Slurm, shows the server’s refusal and submits the mail', async () => {
    const submitted: JobInfo[] = [];
    const { container } = render(
      <SubmitJobForm
        service={new JobService({ serverSettings: api.serverSettings })}
        trans={trans}
        path="hello.sh"
        presets={[]}
        onSubmitted={job => submitted.push(job)}
      />
    );
    const cluster = screen.getByLabelText('Cluster') as HTMLSelectElement;
    await waitFor(() => expect(cluster.value).toBe('local'));
    // The local back end sends no e-mail: no field.
    expect(screen.queryByLabelText('E-mail address')).toBeNull();

    fireEvent.change(cluster, { target: { value: 'gpu-slurm' } });
    const address = screen.getByLabelText('E-mail address') as HTMLInputElement;
    const when = screen.getByLabelText('Send it') as HTMLSelectElement;
    expect(Array.from(when.options).map(o => [o.value, o.text])).toEqual([
      ['end', 'When it ends'],
      ['fail', 'Only if it fails'],
      ['all', 'When it starts and when it ends']
    ]);

    fireEvent.change(address, { target: { value: '$(id)@example.org' } });
    await waitFor(() =>
      expect(
        container.querySelector(
          '.jp-EspriVre-fieldProblem[data-field="mail.address"]'
        )?.textContent
      ).toBe(REFUSAL)
    );
    expect(address.getAttribute('aria-invalid')).toBe('true');

    fireEvent.change(address, { target: { value: ADDRESS } });
    fireEvent.change(when, { target: { value: 'all' } });
    const preview = container.querySelector('pre.jp-EspriVre-scriptPreview')!;
    await waitFor(() => expect(preview.textContent).toBe(PREVIEW.script));
    expect(container.querySelector('.jp-EspriVre-fieldProblem')).toBeNull();

    fireEvent.click(screen.getByRole('button', { name: 'Submit' }));
    await waitFor(() => expect(submitted).toHaveLength(1));
    expect(posted[0].spec.mail).toEqual({ address: ADDRESS, when: 'all' });

    // Back on the local back end, the address typed is not sent.
    fireEvent.change(screen.getByLabelText('Cluster'), {
      target: { value: 'local' }
    });
    expect(screen.queryByLabelText('E-mail address')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Submit' }));
    await waitFor(() => expect(submitted).toHaveLength(2));
    expect(posted[1]).toMatchObject({ cluster: 'local' });
    expect(posted[1].spec).not.toHaveProperty('mail');
  });

  it('is disabled with the reason on a Slurm cluster that allows no e-mail, and the job is sent without', async () => {
    // A server that says this Slurm's jobs may not ask for e-mail.
    clustersAnswer = slurmMail(false);
    const { submitted } = renderSubmitForm(api.serverSettings);
    const refused = screen.getByLabelText('Cluster') as HTMLSelectElement;
    await waitFor(() => expect(refused.value).toBe('local'));
    fireEvent.change(refused, { target: { value: 'gpu-slurm' } });
    const address = screen.getByLabelText('E-mail address') as HTMLInputElement;
    expect(address.disabled).toBe(true);
    expect(
      (screen.getByLabelText('Send it') as HTMLSelectElement).disabled
    ).toBe(true);
    const reason = document.getElementById(
      address.getAttribute('aria-describedby')!
    );
    expect(reason?.textContent).toBe(
      'E-mail is off on GPU cluster (Slurm): its configuration does not allow jobs to ask for it (or its scheduler has no mail program).'
    );
    fireEvent.click(screen.getByRole('button', { name: 'Submit' }));
    await waitFor(() => expect(submitted).toHaveLength(1));
    expect(posted[0].cluster).toBe('gpu-slurm');
    expect(posted[0].spec).not.toHaveProperty('mail');
  });

  it('is offered when the server does not say whether the cluster allows e-mail', async () => {
    clustersAnswer = slurmMail(undefined);
    renderSubmitForm(api.serverSettings);
    const cluster = screen.getByLabelText('Cluster') as HTMLSelectElement;
    await waitFor(() => expect(cluster.value).toBe('local'));
    fireEvent.change(cluster, { target: { value: 'gpu-slurm' } });
    expect(
      (screen.getByLabelText('E-mail address') as HTMLInputElement).disabled
    ).toBe(false);
  });
});
