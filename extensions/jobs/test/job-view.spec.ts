import type { JobInfo, JobListResponse } from '@espri-vre/core';
import { nullTranslator } from '@jupyterlab/translation';
import { describe, expect, it } from 'vitest';
import {
  actionable,
  contentsPath,
  daskClusterOf,
  elapsedSeconds,
  filterJobs,
  formatDuration,
  isFinished,
  jobKey,
  expectedStart,
  jobRows,
  newlyEnded,
  serviceJob,
  sortJobs,
  windowRange,
  stateBadge
} from '../src/job-view';
import jobsFixture from './fixtures/jobs.json';

const trans = nullTranslator.load('espri_vre');
const JOBS = (jobsFixture as JobListResponse).jobs;
const [hello, fail, running, pending] = JOBS;

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [42, '42s'],
    [59.9, '59s'],
    [60, '1m 00s'],
    [185, '3m 05s'],
    [3600, '1h 00m'],
    [7380, '2h 03m'],
    [93600, '1d 02h'],
    [1814400, '21d 00h']
  ])('writes %s seconds as %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it('writes an unknown or impossible duration as a dash', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(-1)).toBe('—');
    expect(formatDuration(Number.NaN)).toBe('—');
  });
});

describe('elapsedSeconds', () => {
  it('counts a finished job from its start to its end', () => {
    expect(elapsedSeconds(hello, Date.now())).toBe(0);
    expect(
      elapsedSeconds(
        { ...hello, start_time: 1000, end_time: 1125.7 },
        Date.now()
      )
    ).toBe(125);
  });

  it('counts a running job up to now', () => {
    // squeue's job started at 1684114921 (2023-05-15T01:42:01Z).
    expect(elapsedSeconds(running, (1684114921 + 3725) * 1000)).toBe(3725);
  });

  it('has no elapsed time for a job that has not started', () => {
    expect(elapsedSeconds(pending, Date.now())).toBeNull();
  });

  it('does not count on for a finished job whose end the scheduler forgot', () => {
    expect(
      elapsedSeconds({ ...hello, end_time: null }, 1795468869250 + 10000000)
    ).toBe(0);
  });
});

describe('stateBadge', () => {
  it('gives each state a label and a tone', () => {
    expect(
      (
        [
          'PENDING',
          'HELD',
          'RUNNING',
          'COMPLETED',
          'FAILED',
          'TIMEOUT',
          'CANCELLED',
          'UNKNOWN'
        ] as const
      ).map(s => [s, stateBadge(s, trans).label, stateBadge(s, trans).tone])
    ).toEqual([
      ['PENDING', 'Pending', 'waiting'],
      ['HELD', 'Held', 'waiting'],
      ['RUNNING', 'Running', 'active'],
      ['COMPLETED', 'Completed', 'success'],
      ['FAILED', 'Failed', 'failure'],
      ['TIMEOUT', 'Timed out', 'failure'],
      ['CANCELLED', 'Cancelled', 'neutral'],
      ['UNKNOWN', 'Unknown', 'neutral']
    ]);
  });

  it('never counts UNKNOWN as finished', () => {
    expect(isFinished('UNKNOWN')).toBe(false);
    expect(isFinished('TIMEOUT')).toBe(true);
  });
});

describe('filterJobs', () => {
  it('keeps the jobs in the chosen states', () => {
    expect(
      filterJobs(JOBS, { states: ['RUNNING', 'PENDING'], text: '' }).map(
        j => j.id
      )
    ).toEqual(['26515966', '58948420']);
  });

  it('keeps every job when no state is chosen', () => {
    expect(filterJobs(JOBS, { states: [], text: '' })).toHaveLength(4);
  });

  it('matches text in the name, id, cluster and partition', () => {
    expect(
      filterJobs(JOBS, { states: [], text: 'SOME job' }).map(j => j.id)
    ).toEqual(['58948420']);
    expect(
      filterJobs(JOBS, { states: [], text: 'gpu-slurm' }).map(j => j.id)
    ).toEqual(['26515966', '58948420']);
    expect(filterJobs(JOBS, { states: [], text: 'hw-l' })).toEqual([running]);
    expect(filterJobs(JOBS, { states: ['FAILED'], text: 'hello' })).toEqual([]);
  });
});

describe('sortJobs', () => {
  it('puts the newest submission first', () => {
    expect(sortJobs(JOBS, 'newest').map(j => j.id)).toEqual([
      '2',
      '1',
      '58948420',
      '26515966'
    ]);
  });

  it('puts the oldest submission first when asked', () => {
    expect(sortJobs(JOBS, 'oldest').map(j => j.id)).toEqual([
      '26515966',
      '58948420',
      '1',
      '2'
    ]);
  });

  it('puts jobs without a submit time last and orders ties by id', () => {
    const jobs: JobInfo[] = [
      { ...hello, id: '10', submit_time: null },
      { ...hello, id: '9', submit_time: 5 },
      { ...hello, id: '2', submit_time: 5 },
      { ...hello, id: '3', submit_time: 7 }
    ];
    expect(sortJobs(jobs, 'newest').map(j => j.id)).toEqual([
      '3',
      '2',
      '9',
      '10'
    ]);
    expect(sortJobs(jobs, 'oldest').map(j => j.id)).toEqual([
      '2',
      '9',
      '3',
      '10'
    ]);
  });

  it('does not reorder its argument', () => {
    const before = JOBS.map(j => j.id);
    sortJobs(JOBS, 'newest');
    expect(JOBS.map(j => j.id)).toEqual(before);
  });
});

describe('jobRows', () => {
  it('gives each job its key, name, cluster, badge, partition and elapsed time', () => {
    const now = (1684114921 + 61) * 1000;
    expect(jobRows([running, pending, fail], now, trans)).toEqual([
      {
        key: 'gpu-slurm/26515966',
        id: '26515966',
        cluster: 'gpu-slurm',
        name: 'job_name',
        state: 'RUNNING',
        badge: { label: 'Running', tone: 'active' },
        partition: 'hw-l',
        elapsed: '1m 01s',
        startsAt: '',
        reason: '',
        dask: null
      },
      {
        key: 'gpu-slurm/58948420',
        id: '58948420',
        cluster: 'gpu-slurm',
        name: 'some job name',
        state: 'PENDING',
        badge: { label: 'Pending', tone: 'waiting' },
        partition: 'hw-m',
        elapsed: '—',
        startsAt: '',
        reason: 'Dependency',
        dask: null
      },
      {
        key: 'local/2',
        id: '2',
        cluster: 'local',
        name: 'fail',
        state: 'FAILED',
        badge: { label: 'Failed', tone: 'failure' },
        partition: 'local',
        elapsed: '0s',
        startsAt: '',
        reason: 'NonZeroExitCode',
        dask: null
      }
    ]);
  });
});

describe('a waiting job with an expected start', () => {
  it('shows when it starts instead of an elapsed time, and only while it waits', () => {
    const now = 1684114921 * 1000;
    const waiting: JobInfo = { ...pending, start_time: 1684114921 + 600 };
    expect(expectedStart(waiting, now)).toBe(1684114921 + 600);
    expect(jobRows([waiting], now, trans)[0].elapsed).toBe('starts in 10m 00s');
    expect(expectedStart({ ...waiting, state: 'HELD' }, now)).toBe(
      1684114921 + 600
    );
    expect(expectedStart({ ...waiting, state: 'RUNNING' }, now)).toBeNull();
    expect(expectedStart({ ...waiting, start_time: 1 }, now)).toBeNull();
    expect(jobRows([waiting], now, trans)[0].startsAt).toBe(
      `Expected start: ${new Date((1684114921 + 600) * 1000).toLocaleString()}`
    );
  });

  it('shows no elapsed time while it waits, even past the start last expected', () => {
    const now = 1684114921 * 1000;
    const late: JobInfo = { ...pending, start_time: 1684114921 - 600 };
    expect(jobRows([late], now, trans)[0]).toMatchObject({
      elapsed: '—',
      startsAt: ''
    });
    expect(
      jobRows([{ ...late, state: 'RUNNING' }], now, trans)[0].elapsed
    ).toBe('10m 00s');
  });
});

describe('a job listed without its null fields', () => {
  it('reads as the same job with them null (the list route leaves them out)', () => {
    const withNulls: JobInfo = Object.fromEntries(
      Object.entries(pending).map(([key, value]) => [
        key,
        key === 'reason' || key === 'partition' || key === 'submit_time'
          ? null
          : value
      ])
    ) as JobInfo;
    const { reason, partition, submit_time, ...compact } = withNulls;
    expect([reason, partition, submit_time]).toEqual([null, null, null]);
    const now = Date.now();
    expect(jobRows([compact as JobInfo], now, trans)).toEqual(
      jobRows([withNulls], now, trans)
    );
    expect(serviceJob(compact as JobInfo)).toEqual(serviceJob(withNulls));
    expect(sortJobs([compact as JobInfo, hello], 'newest')[1]).toBe(compact);
  });
});

describe('daskClusterOf', () => {
  it("tags the worker jobs of the Dask panel's clusters by their name", () => {
    expect(daskClusterOf('dask-local-slurm-small-3')).toBe(
      'local-slurm-small-3'
    );
    const row = jobRows([{ ...running, name: 'dask-gpu-gpu-1' }], 0, trans)[0];
    expect(row.dask).toBe('gpu-gpu-1');
    expect(daskClusterOf('analysis')).toBeNull();
    expect(daskClusterOf('dask-')).toBeNull();
    expect(daskClusterOf('dask-a b')).toBeNull();
  });
});

describe('newlyEnded', () => {
  const watched = new Set(['local/1', 'gpu-slurm/26515966']);

  it('tells the end of a watched job once, when it is first seen finished', () => {
    const before = [{ ...hello, state: 'RUNNING' as const }, running];
    expect(newlyEnded(before, [hello, running], watched)).toEqual([hello]);
    expect(newlyEnded([hello, running], [hello, running], watched)).toEqual([]);
  });

  it('tells the end of a watched job not listed before', () => {
    expect(newlyEnded([], [hello], watched)).toEqual([hello]);
  });

  it('ignores jobs that are not watched and jobs whose state is unknown', () => {
    expect(newlyEnded([], [fail], watched)).toEqual([]);
    expect(
      newlyEnded([running], [{ ...running, state: 'UNKNOWN' }], watched)
    ).toEqual([]);
  });
});

describe('actionable', () => {
  it('cancels unfinished jobs, holds pending ones, releases held ones', () => {
    const held = { ...pending, id: '7', state: 'HELD' as const };
    const all = [hello, fail, running, pending, held];
    expect(actionable('cancel', all).map(jobKey)).toEqual([
      'gpu-slurm/26515966',
      'gpu-slurm/58948420',
      'gpu-slurm/7'
    ]);
    expect(actionable('hold', all).map(jobKey)).toEqual(['gpu-slurm/58948420']);
    expect(actionable('release', all).map(jobKey)).toEqual(['gpu-slurm/7']);
  });
});

describe('serviceJob', () => {
  it('gives a job as the IJobService token describes it', () => {
    expect(serviceJob(fail)).toEqual({
      clusterId: 'local',
      jobId: '2',
      name: 'fail',
      state: 'failed',
      submitted: '2026-11-23T21:21:09.058Z',
      started: '2026-11-23T21:21:09.361Z',
      ended: '2026-11-23T21:21:09.386Z'
    });
    expect(serviceJob({ ...pending, state: 'TIMEOUT' }).state).toBe('failed');
    expect(serviceJob(pending).started).toBeUndefined();
    // Slurm's expected start of a waiting job is not a start.
    const expected = { ...pending, start_time: 1795500000 };
    expect(serviceJob(expected).started).toBeUndefined();
    expect(serviceJob({ ...expected, state: 'HELD' }).started).toBeUndefined();
    expect(serviceJob({ ...expected, state: 'RUNNING' }).started).toBe(
      '2026-11-24T06:00:00.000Z'
    );
  });
});

describe('contentsPath', () => {
  it('names a server path relative to the root JupyterLab serves', () => {
    expect(contentsPath('/home/ana/tp/run-12.ipynb', '/home/ana')).toBe(
      'tp/run-12.ipynb'
    );
    expect(contentsPath('/home/ana/tp/run-12.ipynb', '/home/ana/')).toBe(
      'tp/run-12.ipynb'
    );
    expect(contentsPath('./tp/a.ipynb', '/home/ana')).toBe('tp/a.ipynb');
    expect(contentsPath('/bdd/CMIP6/x.ipynb', '/home/ana')).toBeNull();
    expect(contentsPath('/home/anabel/x.ipynb', '/home/ana')).toBeNull();
  });
});

describe('windowRange', () => {
  it('renders the rows in view and an overscan on each side', () => {
    expect(windowRange(0, 400, 40, 10000)).toEqual({ start: 0, end: 20 });
    expect(windowRange(40 * 5000, 400, 40, 10000)).toEqual({
      start: 4990,
      end: 5020
    });
    expect(windowRange(40 * 9990, 400, 40, 10000)).toEqual({
      start: 9980,
      end: 10000
    });
  });
  it('keeps within the table when it shrinks or the scroll goes past its end', () => {
    expect(windowRange(40 * 20000, 400, 40, 100)).toEqual({
      start: 100,
      end: 100
    });
    expect(windowRange(-50, 0, 40, 3)).toEqual({ start: 0, end: 3 });
    expect(windowRange(0, 400, 40, 0)).toEqual({ start: 0, end: 0 });
  });
});
