// @vitest-environment jsdom
import type { JobInfo, ScheduleInfo } from '@espri-vre/core';
import { Notification } from '@jupyterlab/apputils';
import { ServerConnection } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';
import {
  act,
  cleanup,
  fireEvent,
  render,
  screen,
  waitFor
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
  it
} from 'vitest';
import { JobNotifier } from '../src/notifier';
import { layoutPipeline, PipelinesSection } from '../src/pipeline-graph';
import { SchedulesSection } from '../src/schedules-view';
import { JobService } from '../src/service';
import { isPipelineFile } from '../src/spec-form';

const trans = nullTranslator.load('espri_vre');

/** Two ends as the server tells them: a notebook that completed, a script that failed. */
const ENDED: JobInfo[] = [
  {
    id: '41',
    name: 'daily-report',
    cluster: 'local-slurm',
    state: 'COMPLETED',
    raw_state: 'COMPLETED',
    exit_code: 0,
    gpus: 0,
    output_notebook: '/srv/demo/daily-report-41.ipynb'
  },
  {
    id: '40',
    name: 'broken',
    cluster: 'local-slurm',
    state: 'FAILED',
    raw_state: 'FAILED',
    exit_code: 3,
    gpus: 0
  }
];

const SCHEDULE: ScheduleInfo = {
  id: '1',
  name: 'daily-report',
  cluster: 'local-slurm',
  spec: { kind: 'notebook', path: 'daily-report.ipynb' },
  cron: '0 6 * * *',
  timezone: 'Europe/Paris',
  state: 'active',
  next_run: 1796623200,
  job_id: '42',
  problem: null,
  created_at: 1796536800,
  updated_at: 1796536800
};

let server: http.Server;
let baseUrl: string;
let requests: string[] = [];
let untold: JobInfo[] = [];
let schedule: ScheduleInfo = SCHEDULE;
/** What GET pipelines/runs answers: its runs, or a refusal with its sentence. */
let pipelines: { status: number; body: unknown } = { status: 200, body: {} };

/** A real HTTP server playing the notifications and schedules API. */
beforeAll(async () => {
  server = http.createServer((req, res) => {
    let text = '';
    req.on('data', chunk => (text += chunk));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://h').pathname.replace(
        /^\/espri-vre\/api\//,
        ''
      );
      requests.push(`${req.method} ${path}${text ? ` ${text}` : ''}`);
      const send = (status: number, body: unknown): void => {
        res
          .writeHead(status, { 'Content-Type': 'application/json' })
          .end(JSON.stringify(body));
      };
      if (path === 'jobs/notifications' && req.method === 'GET') {
        send(200, { jobs: untold });
      } else if (path === 'jobs/notifications') {
        const seen = JSON.parse(text).jobs.length;
        untold = [];
        send(200, { told: seen });
      } else if (path === 'schedules') {
        send(200, { schedules: [schedule] });
      } else if (path === 'schedules/1') {
        send(200, {
          ...schedule,
          runs: [
            {
              job_id: '41',
              fired_at: 1796536800,
              how: 'cron',
              state: 'COMPLETED',
              exit_code: 0
            }
          ]
        });
      } else if (path === 'pipelines/runs') {
        send(pipelines.status, pipelines.body);
      } else if (path === 'schedules/1/pause') {
        schedule = { ...schedule, state: 'paused', next_run: null };
        send(200, schedule);
      } else {
        send(404, { error: 'not-found', detail: `no ${path}` });
      }
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise(resolve => server.close(resolve));
});

beforeEach(() => {
  requests = [];
  untold = ENDED.map(j => ({ ...j }));
  schedule = { ...SCHEDULE };
  Notification.dismiss();
});

afterEach(() => cleanup());

function serviceFor(): JobService {
  return new JobService({
    serverSettings: ServerConnection.makeSettings({ baseUrl })
  });
}

describe('the job-end notifier', () => {
  it('shows each untold end with its buttons, then tells the server they were shown', async () => {
    const shown: string[] = [];
    const opened: string[] = [];
    const notifier = new JobNotifier({
      service: serviceFor(),
      trans,
      onShowLog: job => shown.push(job.id),
      onOpen: path => opened.push(path)
    });

    expect(await notifier.check()).toBe(2);

    const toasts = Notification.manager.notifications;
    expect(toasts.map(n => [n.type, n.message])).toEqual([
      ['success', 'Job daily-report (local-slurm) completed.'],
      ['error', 'Job broken (local-slurm) failed with exit code 3.']
    ]);
    const completed = toasts[0].options.actions ?? [];
    expect(completed.map(a => a.label)).toEqual(['Open log', 'Open output']);
    completed[0].callback(new MouseEvent('click'));
    completed[1].callback(new MouseEvent('click'));
    expect(shown).toEqual(['41']);
    expect(opened).toEqual(['/srv/demo/daily-report-41.ipynb']);
    expect(toasts[1].options.actions?.map(a => a.label)).toEqual(['Open log']);
    expect(requests).toEqual([
      'GET jobs/notifications',
      'POST jobs/notifications {"jobs":[{"cluster":"local-slurm","id":"41"},{"cluster":"local-slurm","id":"40"}]}'
    ]);

    // Told once: the next check shows nothing new.
    expect(await notifier.check()).toBe(0);
    expect(Notification.manager.count).toBe(2);
  });

  it('leaves the ends untold while notifications are off', async () => {
    const notifier = new JobNotifier({
      service: serviceFor(),
      trans,
      onShowLog: () => undefined
    });
    notifier.enabled = false;
    expect(await notifier.check()).toBe(0);
    expect(requests).toEqual([]);
    expect(untold).toHaveLength(2);
  });
});

describe('the Schedules section', () => {
  it('lists a schedule with its times and runs, and pauses it', async () => {
    const keys: string[] = [];
    render(
      <SchedulesSection
        service={serviceFor()}
        trans={trans}
        onShowJob={key => keys.push(key)}
      />
    );
    const item = await screen.findByText('daily-report');
    const row = item.closest('li') as HTMLElement;
    expect(row.dataset.state).toBe('active');
    expect(row.textContent).toContain('0 6 * * * Europe/Paris · local-slurm');

    fireEvent.click(item);
    const run = await screen.findByTitle('Show the job and its log');
    fireEvent.click(run);
    expect(keys).toEqual(['local-slurm/41']);

    await act(async () => {
      fireEvent.click(screen.getByText('Pause'));
    });
    await waitFor(() => expect(row.dataset.state).toBe('paused'));
    expect(screen.getByText('Resume')).toBeTruthy();
    expect(requests).toContain('POST schedules/1/pause');
  });
});

describe('a pipeline run drawn as a graph', () => {
  const step = (id: string, after: string[]) => ({
    id,
    cluster: 'local-slurm',
    after,
    job_id: id,
    state: 'PENDING' as const,
    reason: null,
    output_notebook: null
  });

  it('puts each step one column after the steps it waits for', () => {
    const { boxes, width, height } = layoutPipeline([
      step('fetch', []),
      step('check', ['fetch']),
      step('broken', ['fetch']),
      step('report', ['broken', 'fetch'])
    ]);
    expect(boxes.map(b => [b.step.id, b.x, b.y])).toEqual([
      ['fetch', 0, 0],
      ['check', 168, 0],
      ['broken', 168, 50],
      ['report', 336, 0]
    ]);
    expect([width, height]).toEqual([468, 86]);
  });

  it('knows a pipeline file by its name', () => {
    expect(isPipelineFile('course/monthly.pipeline.yaml')).toBe(true);
    expect(isPipelineFile('monthly.pipeline.YML')).toBe(true);
    expect(isPipelineFile('environment.yaml')).toBe(false);
  });
});

describe('the Pipelines section', () => {
  it('draws the runs it reads, and says why when they cannot be read', async () => {
    pipelines = {
      status: 200,
      body: {
        runs: [
          {
            id: '3',
            name: 'monthly',
            path: 'work/monthly.pipeline.yaml',
            created_at: 1796536800,
            state: 'failed',
            steps: [
              {
                id: 'fetch',
                cluster: 'local-slurm',
                after: [],
                job_id: '50',
                state: 'COMPLETED',
                reason: null,
                output_notebook: null
              },
              {
                id: 'report',
                cluster: 'local-slurm',
                after: ['fetch'],
                job_id: '51',
                state: 'CANCELLED',
                reason: 'DependencyNeverSatisfied: step fetch ended FAILED',
                output_notebook: null
              }
            ]
          }
        ]
      }
    };
    const keys: string[] = [];
    const { container } = render(
      <PipelinesSection
        service={serviceFor()}
        trans={trans}
        onShowJob={key => keys.push(key)}
      />
    );
    await screen.findByText('Pipelines (1)');
    const steps = [...container.querySelectorAll('[data-step]')].map(g => [
      (g as SVGElement).dataset.step,
      (g as SVGElement).dataset.state
    ]);
    expect(steps).toEqual([
      ['fetch', 'COMPLETED'],
      ['report', 'CANCELLED']
    ]);
    fireEvent.click(container.querySelector('[data-step="report"]')!);
    expect(keys).toEqual(['local-slurm/51']);
    cleanup();

    pipelines = {
      status: 503,
      body: { error: 'pipelines-unavailable', detail: 'The record is locked.' }
    };
    render(
      <PipelinesSection
        service={serviceFor()}
        trans={trans}
        onShowJob={() => undefined}
      />
    );
    expect((await screen.findByRole('alert')).textContent).toBe(
      'The pipelines could not be listed: The record is locked.'
    );
  });
});
