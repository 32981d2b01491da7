// @vitest-environment jsdom
import type {
  JobClustersResponse,
  JobInfo,
  JobListResponse,
  JobPreviewResponse,
  JobSpec
} from '@espri-vre/core';
import { ServerConnection } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';
import {
  act,
  cleanup,
  fireEvent,
  render,
  screen,
  waitFor,
  within
} from '@testing-library/react';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as React from 'react';
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
  vi
} from 'vitest';
import {
  JOBS_PANEL_ID,
  JobsPanel,
  JobsPanelComponent,
  ROW_HEIGHT
} from '../src/panel';
import { JobRefusedError, JobService } from '../src/service';
import { SubmitJobForm } from '../src/submit-form';
import clustersFixture from './fixtures/clusters.json';
import jobsFixture from './fixtures/jobs.json';
import previewFixture from './fixtures/preview.json';

const trans = nullTranslator.load('espri_vre');
const LISTING = jobsFixture as JobListResponse;
const CLUSTERS = clustersFixture as JobClustersResponse;
const PREVIEW = previewFixture as JobPreviewResponse;
const LOG = 'hello from the job\nsecond line\n';

interface IRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
}

/**
 * A real HTTP server playing the Jobs API with recorded payloads: the jobs of
 * fixtures/jobs.json (local jobs and a Slurm squeue --json), its clusters, the local
 * back end's preview, and a stdout log served in two reads.
 */
let server: http.Server;
let baseUrl: string;
let requests: IRequest[] = [];
let jobs: JobInfo[] = [];
let listStatus = 200;
let listDelay = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let text = '';
    req.on('data', chunk => (text += chunk));
    req.on('end', () => {
      const body = text ? JSON.parse(text) : undefined;
      const path = url.pathname.replace(/^\/espri-vre\/api\//, '');
      requests.push({
        method: req.method!,
        path,
        query: url.searchParams,
        body
      });
      const send = (status: number, answer?: unknown): void => {
        res
          .writeHead(status, { 'Content-Type': 'application/json' })
          .end(answer === undefined ? '' : JSON.stringify(answer));
      };
      answer(req.method!, path, url.searchParams, body, send);
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

function answer(
  method: string,
  path: string,
  query: URLSearchParams,
  body: { cluster: string; spec: JobSpec },
  send: (status: number, answer?: unknown) => void
): void {
  if (method === 'GET' && path === 'jobs') {
    const listing: JobListResponse = {
      jobs: query.get('mine') === 'false' ? jobs : jobs.filter(j => j.user),
      problems: LISTING.problems
    };
    setTimeout(
      () =>
        listStatus === 200
          ? send(200, listing)
          : send(listStatus, {
              error: 'scheduler-error',
              detail: 'The job store could not be read.'
            }),
      listDelay
    );
  } else if (method === 'GET' && /^jobs\/[^/]+\/[^/]+$/.test(path)) {
    const [, cluster, id] = path.split('/');
    const job = jobs.find(j => j.cluster === cluster && j.id === id);
    send(job ? 200 : 404, job ?? { error: 'not-found', detail: 'no job' });
  } else if (method === 'GET' && path === 'jobs/clusters') {
    send(200, CLUSTERS);
  } else if (method === 'POST' && path === 'jobs/estimate') {
    send(200, {
      start_time: null,
      detail: 'It would start when 1 of the jobs before it end',
      partitions: [
        {
          name: 'local',
          cpus_allocated: 2,
          cpus_idle: 0,
          cpus_total: 2,
          jobs_running: 2,
          jobs_pending: 1
        }
      ]
    });
  } else if (method === 'GET' && path === 'schedules') {
    send(200, { schedules: [] });
  } else if (method === 'GET' && path === 'pipelines/runs') {
    send(200, { runs: [] });
  } else if (method === 'POST' && path === 'jobs/preview') {
    if ((body.spec.gpus ?? 0) > 0 && body.cluster === 'local') {
      send(400, {
        error: 'invalid-job',
        detail: 'partition local has no GPUs',
        problems: [{ field: 'gpus', message: 'partition local has no GPUs' }]
      });
    } else {
      send(200, PREVIEW);
    }
  } else if (method === 'POST' && path === 'jobs') {
    if (body.spec.name === 'bad name') {
      send(400, {
        error: 'invalid-job',
        detail: 'the job name holds a space',
        problems: [{ field: 'name', message: 'the job name holds a space' }]
      });
      return;
    }
    const job: JobInfo = {
      ...LISTING.jobs[0],
      id: '3',
      name: body.spec.name ?? 'hello',
      state: 'PENDING',
      raw_state: 'PENDING',
      submit_time: 1795468900,
      start_time: null,
      end_time: null,
      exit_code: null
    };
    jobs = [job, ...jobs];
    send(201, job);
  } else if (
    method === 'POST' &&
    /^jobs\/[^/]+\/[^/]+\/(cancel|hold|release)$/.test(path)
  ) {
    send(204);
  } else if (method === 'GET' && path.endsWith('/logs')) {
    const stream = query.get('stream');
    const offset = Number(query.get('offset'));
    if (stream === 'stderr') {
      send(200, {
        stream,
        path: null,
        offset: 0,
        next_offset: 0,
        size: 0,
        text: '',
        exists: false
      });
      return;
    }
    // The first read stops after the first line, as a 256 KiB limit would.
    const end = offset === 0 ? LOG.indexOf('\n') + 1 : LOG.length;
    send(200, {
      stream,
      path: '/tmp/jobfx/.espri-vre-jobs/hello-1.out',
      offset,
      next_offset: end,
      size: LOG.length,
      text: LOG.slice(offset, end),
      exists: true
    });
  } else {
    send(404, { error: 'not-found', detail: `no ${method} ${path}` });
  }
}

afterAll(async () => {
  server.closeAllConnections();
  await new Promise(resolve => server.close(resolve));
});

beforeEach(() => {
  jobs = LISTING.jobs.map(j => ({ ...j }));
  requests = [];
  listStatus = 200;
  listDelay = 0;
});

afterEach(() => {
  cleanup();
});

function serviceFor(url = baseUrl): JobService {
  return new JobService({
    serverSettings: ServerConnection.makeSettings({ baseUrl: url })
  });
}

function rowsOf(container: HTMLElement): HTMLTableRowElement[] {
  return Array.from(
    container.querySelectorAll<HTMLTableRowElement>('tr.jp-EspriVre-jobRow')
  );
}

function idsOf(container: HTMLElement): (string | undefined)[] {
  return rowsOf(container).map(r => r.dataset.jobId);
}

async function renderLoaded(service = serviceFor()) {
  const view = render(<JobsPanelComponent service={service} trans={trans} />);
  await act(() => service.refresh());
  return { ...view, service };
}

describe('the Jobs panel', () => {
  it('shows one row per job, newest first, with cluster, state, partition and elapsed time', async () => {
    const { container } = await renderLoaded();

    expect(
      rowsOf(container).map(r => [
        r.dataset.jobId,
        r.dataset.cluster,
        r.dataset.state,
        r.querySelector('.jp-EspriVre-jobName')!.textContent,
        r.querySelector('.jp-EspriVre-stateBadge')!.textContent,
        r.querySelector('.jp-EspriVre-jobPartition')!.textContent
      ])
    ).toEqual([
      ['2', 'local', 'FAILED', 'fail', 'Failed', 'local'],
      ['1', 'local', 'COMPLETED', 'hello', 'Completed', 'local'],
      ['58948420', 'gpu-slurm', 'PENDING', 'some job name', 'Pending', 'hw-m'],
      ['26515966', 'gpu-slurm', 'RUNNING', 'job_name', 'Running', 'hw-l']
    ]);
    const elapsed = rowsOf(container).map(
      r => r.querySelector('.jp-EspriVre-jobElapsed')!.textContent
    );
    expect(elapsed.slice(0, 3)).toEqual(['0s', '0s', '—']);
    expect(elapsed[3]).toMatch(/^\d+d \d\dh$/);
    expect(rowsOf(container)[2].title).toBe('Dependency');
    expect(
      container.querySelector(
        '.jp-EspriVre-jobsProblem[data-cluster="cpu-torque"]'
      )?.textContent
    ).toBe(
      'cpu-torque: qstat: cannot connect to server torque.example (errno=111) Connection refused'
    );
    const list = requests.filter(r => r.path === 'jobs');
    expect(
      list.map(r => [r.query.get('cluster'), r.query.get('mine')])
    ).toEqual([['all', 'true']]);
  });

  it('asks for every user’s jobs, filters by state and sorts oldest first', async () => {
    const { container } = await renderLoaded();

    fireEvent.change(container.querySelector('select.jp-EspriVre-jobsMine')!, {
      target: { value: 'all' }
    });
    await waitFor(() =>
      expect(requests.filter(r => r.path === 'jobs')).toHaveLength(2)
    );
    expect(requests.at(-1)!.query.get('mine')).toBe('false');

    fireEvent.change(container.querySelector('select.jp-EspriVre-jobsSort')!, {
      target: { value: 'oldest' }
    });
    expect(idsOf(container)).toEqual(['26515966', '58948420', '1', '2']);

    fireEvent.change(container.querySelector('select.jp-EspriVre-jobsState')!, {
      target: { value: 'FAILED' }
    });
    expect(idsOf(container)).toEqual(['2']);
  });

  it('cancels, holds and releases only the selected jobs each action applies to', async () => {
    const { container } = await renderLoaded();
    const select = (id: string): void => {
      fireEvent.click(
        screen.getByRole('checkbox', { name: `Select job ${id}` })
      );
    };
    const button = (action: string) =>
      container.querySelector<HTMLButtonElement>(
        `button.jp-EspriVre-jobAction[data-action="${action}"]`
      )!;
    expect(button('cancel').disabled).toBe(true);

    select('1');
    select('26515966');
    select('58948420');

    expect(button('cancel').textContent).toBe('Cancel (2)');
    expect(button('hold').textContent).toBe('Hold (1)');
    expect(button('release').disabled).toBe(true);

    fireEvent.click(button('cancel'));
    await waitFor(() =>
      expect(requests.filter(r => r.path.endsWith('/cancel'))).toHaveLength(2)
    );
    fireEvent.click(button('hold'));
    await waitFor(() =>
      expect(requests.filter(r => r.path.endsWith('/hold'))).toHaveLength(1)
    );
    expect(requests.filter(r => r.method === 'POST').map(r => r.path)).toEqual([
      'jobs/gpu-slurm/26515966/cancel',
      'jobs/gpu-slurm/58948420/cancel',
      'jobs/gpu-slurm/58948420/hold'
    ]);
  });

  it('selects every shown job from the header checkbox and toggles a row with Space', async () => {
    const { container } = await renderLoaded();

    fireEvent.click(
      screen.getByRole('checkbox', { name: 'Select every job shown' })
    );
    expect(
      screen
        .getAllByRole('checkbox')
        .filter(c => (c as HTMLInputElement).checked)
    ).toHaveLength(5);

    fireEvent.keyDown(rowsOf(container)[0], { key: ' ' });
    expect(
      (
        screen.getByRole('checkbox', {
          name: 'Select job 2'
        }) as HTMLInputElement
      ).checked
    ).toBe(false);
  });

  it('opens a job’s details with Enter and tails its log by offset', async () => {
    const { container } = await renderLoaded();
    const row = rowsOf(container).find(r => r.dataset.jobId === '1')!;

    fireEvent.keyDown(row, { key: 'Enter' });

    const details = container.querySelector<HTMLElement>(
      'section.jp-EspriVre-jobDetails[data-job-id="1"]'
    )!;
    expect(row.getAttribute('aria-selected')).toBe('true');
    const fields = Object.fromEntries(
      Array.from(details.querySelectorAll('dt')).map(dt => [
        dt.textContent,
        dt.nextElementSibling!.textContent
      ])
    );
    expect(fields).toMatchObject({
      'Job id': '1',
      Cluster: 'local',
      State: 'Completed (COMPLETED)',
      Nodes: 'vm',
      Cores: '1',
      'Exit code': '0',
      'Working directory': '/tmp/jobfx'
    });
    const log = details.querySelector('pre.jp-EspriVre-jobLog')!;
    await waitFor(() => expect(log.textContent).toBe(LOG));
    const reads = requests.filter(r => r.path === 'jobs/local/1/logs');
    expect(
      reads.map(r => [r.query.get('stream'), r.query.get('offset')])
    ).toEqual([
      ['stdout', '0'],
      ['stdout', '19']
    ]);

    fireEvent.click(within(details).getByRole('button', { name: 'stderr' }));
    await waitFor(() =>
      expect(details.querySelector('.jp-EspriVre-logNote')?.textContent).toBe(
        'This job wrote no stderr.'
      )
    );
    expect(details.querySelector('pre.jp-EspriVre-jobLog')!.textContent).toBe(
      ''
    );
  });

  it('shows why a failed job failed', async () => {
    const { container } = await renderLoaded();

    fireEvent.click(rowsOf(container).find(r => r.dataset.jobId === '2')!);

    const details = container.querySelector('section.jp-EspriVre-jobDetails')!;
    expect(details.textContent).toContain('ReasonNonZeroExitCode');
    expect(details.textContent).toContain('Exit code3');
  });

  it('renders only the rows in view of a 10,000-job queue, and follows the scroll', async () => {
    jobs = Array.from({ length: 10000 }, (_, i) => ({
      ...LISTING.jobs[3],
      id: String(100000 + i),
      submit_time: 1684114900 + i
    }));
    const { container } = await renderLoaded();

    // jsdom has no layout: the view is the default 600 px, 15 rows, and 10 more below.
    expect(rowsOf(container)).toHaveLength(25);
    expect(rowsOf(container)[0].dataset.jobId).toBe('109999');
    const wrap = container.querySelector<HTMLElement>(
      '.jp-EspriVre-jobsTableWrap'
    )!;
    expect(wrap.dataset.rows).toBe('10000');
    const spacers = () =>
      [
        ...container.querySelectorAll<HTMLElement>('.jp-EspriVre-jobSpacer')
      ].map(r => r.style.height);
    expect(spacers()).toEqual([`${(10000 - 25) * ROW_HEIGHT}px`]);

    wrap.scrollTop = 9990 * ROW_HEIGHT;
    fireEvent.scroll(wrap);
    const shown = rowsOf(container);
    expect(shown.length).toBeLessThanOrEqual(40);
    expect(shown[shown.length - 1].dataset.jobId).toBe('100000');
    expect(spacers()).toEqual([`${9980 * ROW_HEIGHT}px`]);

    // "Select every job shown" takes the whole list, not only the rows in view.
    const all = screen.getByRole('checkbox', {
      name: 'Select every job shown'
    });
    fireEvent.click(all);
    expect((all as HTMLInputElement).checked).toBe(true);
    wrap.scrollTop = 0;
    fireEvent.scroll(wrap);
    const first = screen.getByRole('checkbox', { name: 'Select job 109999' });
    expect((first as HTMLInputElement).checked).toBe(true);
  });

  it('shows the server’s error and keeps the last list', async () => {
    const { container, service } = await renderLoaded();
    listStatus = 503;

    await act(() => service.refresh().catch(() => undefined));

    expect(screen.getByRole('alert').textContent).toBe(
      'The jobs could not be listed.scheduler-error: The job store could not be read.'
    );
    expect(rowsOf(container)).toHaveLength(4);
  });
});

describe('JobService', () => {
  it('cancels the list request under way when asked again', async () => {
    listDelay = 100;
    const service = serviceFor();
    const first = service.refresh();
    const second = service.refresh();

    await Promise.all([first, second]);

    expect(service.infos).toHaveLength(4);
    expect(service.loading).toBe(false);
    expect(service.error).toBeNull();
  });

  it('tells once that a job submitted here ended', async () => {
    const service = serviceFor();
    const ended: JobInfo[] = [];
    service.jobEnded.connect((_, job) => ended.push(job));

    const job = await service.submitSpec('local', {
      kind: 'script',
      path: 'hello.sh',
      cluster: 'local'
    });
    expect(job.id).toBe('3');
    expect(service.infos[0].id).toBe('3');
    expect(service.watching).toBe(true);

    jobs[0] = { ...jobs[0], state: 'COMPLETED', end_time: 1795468910 };
    await service.refresh();
    await service.refresh();

    expect(ended.map(j => [j.id, j.state])).toEqual([['3', 'COMPLETED']]);
    expect(service.watching).toBe(false);
    expect(service.jobs[0]).toMatchObject({
      clusterId: 'local',
      jobId: '3',
      state: 'completed'
    });
  });

  it('submits through the IJobService token with its resources as the server spells them', async () => {
    const service = serviceFor();

    const job = await service.submit({
      clusterId: 'local',
      kind: 'notebook',
      path: 'notebooks/open_demo_data.ipynb',
      parameters: { alpha: 0.5 },
      resources: { cores: 2, memory_mb: 2048, walltime_s: 5400, gpus: 0 }
    });

    expect(job).toMatchObject({
      clusterId: 'local',
      jobId: '3',
      state: 'pending'
    });
    expect(requests.find(r => r.method === 'POST')!.body).toEqual({
      cluster: 'local',
      spec: {
        kind: 'notebook',
        path: 'notebooks/open_demo_data.ipynb',
        cluster: 'local',
        cpus: 2,
        memory: '2048M',
        walltime: '90',
        gpus: 0,
        parameters: { alpha: 0.5 }
      }
    });
  });

  it('keeps the server’s field problems when it refuses a job', async () => {
    const service = serviceFor();

    const refusal = await service
      .submitSpec('local', { kind: 'script', path: 'a.sh', name: 'bad name' })
      .catch(reason => reason);

    expect(refusal).toBeInstanceOf(JobRefusedError);
    expect(refusal.status).toBe(400);
    expect(refusal.problems).toEqual([
      { field: 'name', message: 'the job name holds a space' }
    ]);
    expect(
      requests.filter(r => r.path === 'jobs' && r.method === 'POST')
    ).toHaveLength(1);
  });
});

describe('the submission form', () => {
  it('previews the batch script, shows refusals next to their field and submits', async () => {
    const service = serviceFor();
    const submitted: JobInfo[] = [];
    const { container } = render(
      <SubmitJobForm
        service={service}
        trans={trans}
        path="hello.sh"
        presets={[
          { name: 'GPU class', cluster: 'gpu-slurm', gpus: 1 },
          { name: 'Small', cpus: 1, walltime: '00:10:00' }
        ]}
        onSubmitted={job => submitted.push(job)}
      />
    );
    const preview = container.querySelector('pre.jp-EspriVre-scriptPreview')!;
    await waitFor(() => expect(preview.textContent).toBe(PREVIEW.script));
    // When it would start, and how busy the cluster is.
    await waitFor(() =>
      expect(
        container.querySelector('.jp-EspriVre-startEstimate')?.textContent
      ).toBe(
        'It would start when 1 of the jobs before it endlocal: 2 of 2 cores busy, 2 running, 1 waiting'
      )
    );
    const cluster = screen.getByLabelText('Cluster') as HTMLSelectElement;
    expect(Array.from(cluster.options).map(o => [o.value, o.text])).toEqual([
      ['local', 'This server'],
      ['gpu-slurm', 'GPU cluster (Slurm)']
    ]);
    const presets = screen.getByLabelText('Preset') as HTMLSelectElement;
    expect(Array.from(presets.options).map(o => o.text)).toEqual([
      'None',
      'Small'
    ]);

    fireEvent.change(presets, { target: { value: 'Small' } });
    expect(
      (screen.getByLabelText('Cores per task') as HTMLInputElement).value
    ).toBe('1');
    expect((screen.getByLabelText('Walltime') as HTMLInputElement).value).toBe(
      '00:10:00'
    );

    fireEvent.change(screen.getByLabelText('GPUs'), { target: { value: '1' } });
    await waitFor(() =>
      expect(
        container.querySelector('.jp-EspriVre-fieldProblem[data-field="gpus"]')
          ?.textContent
      ).toBe('partition local has no GPUs')
    );
    expect(screen.getByLabelText('GPUs').getAttribute('aria-invalid')).toBe(
      'true'
    );
    expect(preview.textContent).toBe('');

    fireEvent.change(screen.getByLabelText('GPUs'), { target: { value: '' } });
    fireEvent.change(screen.getByLabelText('Job name'), {
      target: { value: 'greeting' }
    });
    await waitFor(() => expect(preview.textContent).toBe(PREVIEW.script));
    expect(container.querySelector('.jp-EspriVre-fieldProblem')).toBeNull();

    fireEvent.click(screen.getByRole('button', { name: 'Submit' }));

    await waitFor(() => expect(submitted).toHaveLength(1));
    expect(submitted[0]).toMatchObject({
      id: '3',
      name: 'greeting',
      cluster: 'local'
    });
    const post = requests.find(r => r.method === 'POST' && r.path === 'jobs')!;
    expect(post.body).toEqual({
      cluster: 'local',
      spec: {
        kind: 'script',
        path: 'hello.sh',
        cluster: 'local',
        name: 'greeting',
        cpus: 1,
        walltime: '00:10:00'
      }
    });
  });

  it('shows the server’s refusal of a submission next to the field', async () => {
    const service = serviceFor();
    const { container } = render(
      <SubmitJobForm
        service={service}
        trans={trans}
        path="hello.sh"
        presets={[]}
        onSubmitted={() => undefined}
      />
    );
    await waitFor(() =>
      expect(
        (screen.getByLabelText('Cluster') as HTMLSelectElement).value
      ).toBe('local')
    );
    fireEvent.change(screen.getByLabelText('Job name'), {
      target: { value: 'bad name' }
    });

    fireEvent.click(screen.getByRole('button', { name: 'Submit' }));

    await waitFor(() =>
      expect(
        container.querySelector('.jp-EspriVre-fieldProblem[data-field="name"]')
          ?.textContent
      ).toBe('the job name holds a space')
    );
    expect(jobs.map(j => j.id)).not.toContain('3');
  });
});

describe('JobsPanel', () => {
  it('has the id espri-vre-jobs-panel and polls only while visible', async () => {
    const service = serviceFor();
    const panel = new JobsPanel({ service, trans });
    panel.refreshSeconds = 0.05;
    Widget.attach(panel, document.body);

    try {
      expect(document.getElementById(JOBS_PANEL_ID)).toBe(panel.node);
      await waitFor(() =>
        expect(
          panel.node.querySelectorAll('tr.jp-EspriVre-jobRow')
        ).toHaveLength(4)
      );
      await waitFor(() =>
        expect(
          requests.filter(r => r.path === 'jobs').length
        ).toBeGreaterThanOrEqual(3)
      );

      // Counted where the poll asks, not where the server hears: the request under
      // way at hide time may reach the server (in this process) after the count.
      const asked = vi.spyOn(service, 'refresh');
      listDelay = 300;
      await waitFor(() => expect(service.loading).toBe(true));
      panel.hide();
      expect(service.loading).toBe(false);
      const whenHidden = asked.mock.calls.length;
      await new Promise(resolve => setTimeout(resolve, 250));

      expect(asked).toHaveBeenCalledTimes(whenHidden);
      expect(service.error).toBeNull();
    } finally {
      Widget.detach(panel);
      panel.dispose();
    }
  });
});
