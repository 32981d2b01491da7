// @vitest-environment jsdom
import type {
  JobClustersResponse,
  JobInfo,
  JobListResponse,
  JobPreviewResponse,
  JobSpec
} from '@espri-vre/core';
import { nullTranslator } from '@jupyterlab/translation';
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  fieldDefaults,
  formatWalltime,
  shownValue
} from '../src/form-defaults';
import { type ApiAnswer, JobsApiServer } from './api-server';
import clustersFixture from './fixtures/clusters.json';
import jobsFixture from './fixtures/jobs.json';
import previewFixture from './fixtures/preview.json';
import { renderSubmitForm } from './render-form';

const trans = nullTranslator.load('espri_vre');
// The clusters as the server answered them (a local back end and a Slurm one).
const CLUSTERS = clustersFixture as JobClustersResponse;
const clusters = CLUSTERS.clusters;
const byId = (id: string) => clusters.find(c => c.id === id)!.partitions;

describe('the submission form’s defaults', () => {
  it('says the partition’s walltime as a value with its source', () => {
    // The Slurm partition has no DefaultTime: a job gets its MaxTime of one hour.
    expect(fieldDefaults(byId('gpu-slurm'), '', trans)).toEqual({
      memory: {
        value: null,
        text: 'cluster default (at most 7900M per node)'
      },
      walltime: { value: '01:00:00', text: 'partition default: 01:00:00' }
    });
    expect(fieldDefaults(byId('gpu-slurm'), 'debug', trans).walltime).toEqual({
      value: '01:00:00',
      text: 'partition default: 01:00:00'
    });
    // The local back end sets no time limit: nothing to show as a value.
    expect(fieldDefaults(byId('local'), '', trans).walltime).toEqual({
      value: null,
      text: 'cluster default: no limit'
    });
  });

  it('prefers the partition’s DefaultTime and says nothing made up for an unknown partition', () => {
    const [debug] = byId('gpu-slurm');
    expect(
      fieldDefaults([{ ...debug, default_time: 1800 }], '', trans).walltime
    ).toEqual({ value: '00:30:00', text: 'partition default: 00:30:00' });
    const unknown = { value: null, text: 'cluster default' };
    expect(fieldDefaults(byId('gpu-slurm'), 'typo', trans)).toEqual({
      memory: unknown,
      walltime: unknown
    });
  });

  it('says the partition’s memory per node as a value, also from a default per CPU', () => {
    // The recorded partition, with the default memory Slurm would give as
    // DefMemPerNode / DefMemPerCPU (the recorded one sets none).
    const [debug] = byId('gpu-slurm');
    expect(
      fieldDefaults(
        [{ ...debug, default_memory: 3000, default_memory_per_cpu: false }],
        '',
        trans
      ).memory
    ).toEqual({ value: '3000M', text: 'partition default: 3000M per node' });
    // Per CPU: the memory per node it makes for the CPUs the form asks for on a node
    // (cores per task, one task per node), Slurm's one CPU when left empty.
    const perCpu = [
      { ...debug, default_memory: 2000, default_memory_per_cpu: true }
    ];
    expect(fieldDefaults(perCpu, 'debug', trans, '4').memory).toEqual({
      value: '8000M',
      text: 'partition default: 2000M per CPU = 8000M for 4 CPUs'
    });
    expect(fieldDefaults(perCpu, '', trans).memory).toEqual({
      value: '2000M',
      text: 'partition default: 2000M per CPU = 2000M for 1 CPU'
    });
    // Cores that are not a count: the per-CPU figure alone, no sum made up.
    for (const typed of ['two', '0', '1.5', '-2']) {
      expect(fieldDefaults(perCpu, 'debug', trans, typed).memory).toEqual({
        value: null,
        text: 'partition default: 2000M per CPU'
      });
    }
    // None set, none said: the most a node offers, as before.
    expect(
      fieldDefaults(
        [{ ...debug, default_memory: null, default_memory_per_cpu: false }],
        '',
        trans
      ).memory
    ).toEqual({
      value: null,
      text: 'cluster default (at most 7900M per node)'
    });
  });

  it('shows the default until something is typed, and an emptied field empty', () => {
    const hour = { value: '01:00:00', text: 'partition default: 01:00:00' };
    expect(shownValue('', false, hour)).toEqual({
      value: '01:00:00',
      isDefault: true
    });
    expect(shownValue('02:00:00', true, hour)).toEqual({
      value: '02:00:00',
      isDefault: false
    });
    expect(shownValue('', true, hour)).toEqual({ value: '', isDefault: true });
    expect(
      shownValue('', false, { value: null, text: 'cluster default' })
    ).toEqual({ value: '', isDefault: true });
  });

  it('writes walltimes in the field’s own format', () => {
    expect(formatWalltime(59)).toBe('00:00:59');
    expect(formatWalltime(3600)).toBe('01:00:00');
    expect(formatWalltime(2 * 86400 + 3661)).toBe('2-01:01:01');
  });
});

/**
 * A real HTTP server playing the Jobs API with the recorded clusters and preview; it
 * records what is submitted.
 */
let posted: { cluster: string; spec: JobSpec }[] = [];
// The clusters the server answers: the recorded ones unless a test sets its own.
let answer: JobClustersResponse = CLUSTERS;

const api = new JobsApiServer(({ method, route, body }): ApiAnswer => {
  if (route === 'jobs/clusters') {
    return [200, answer];
  } else if (route === 'jobs/preview') {
    return [200, previewFixture as JobPreviewResponse];
  } else if (route === 'jobs/estimate') {
    return [200, { start_time: null, detail: 'no estimate', partitions: [] }];
  } else if (method === 'POST' && route === 'jobs') {
    posted.push(body as { cluster: string; spec: JobSpec });
    const job: JobInfo = { ...(jobsFixture as JobListResponse).jobs[0] };
    return [201, job];
  }
  return undefined;
});

beforeAll(() => api.start());
afterAll(() => api.stop());

afterEach(() => {
  cleanup();
  posted = [];
  answer = CLUSTERS;
});

/** The note beside a field: its default's source while the field is left empty. */
function noteOf(
  container: HTMLElement
): (name: string) => string | null | undefined {
  return name =>
    container.querySelector(`[data-field="${name}"] .jp-EspriVre-fieldDefault`)
      ?.textContent;
}

/** The recorded clusters, the Slurm partition with a default memory set. */
function withDefaultMemory(
  megabytes: number,
  perCpu: boolean
): JobClustersResponse {
  return {
    ...CLUSTERS,
    clusters: clusters.map(c =>
      c.id === 'gpu-slurm'
        ? {
            ...c,
            partitions: c.partitions.map(p => ({
              ...p,
              default_memory: megabytes,
              default_memory_per_cpu: perCpu
            }))
          }
        : c
    )
  };
}

describe('the form’s fields with a default', () => {
  it('show the default as a value with its source, send nothing for it, and send what is typed', async () => {
    const { submitted, container } = renderSubmitForm(api.serverSettings);
    const cluster = screen.getByLabelText('Cluster') as HTMLSelectElement;
    await waitFor(() => expect(cluster.value).toBe('local'));
    const walltime = screen.getByLabelText('Walltime') as HTMLInputElement;
    const note = noteOf(container);
    // The local back end: no limit to show as a value, said beside the field.
    expect(walltime.value).toBe('');
    expect(walltime.placeholder).toBe('cluster default: no limit');
    expect(note('walltime')).toBe('cluster default: no limit');

    fireEvent.change(cluster, { target: { value: 'gpu-slurm' } });
    expect(walltime.value).toBe('01:00:00');
    expect(walltime.dataset.default).toBe('true');
    expect(note('walltime')).toBe('partition default: 01:00:00');
    expect(walltime.getAttribute('aria-describedby')).toBe(
      container.querySelector(
        '[data-field="walltime"] .jp-EspriVre-fieldDefault'
      )?.id
    );
    const memory = screen.getByLabelText('Memory per node') as HTMLInputElement;
    expect(memory.value).toBe('');
    expect(note('memory')).toBe('cluster default (at most 7900M per node)');

    // Submitted untouched, the job gets the partition's default from Slurm itself.
    fireEvent.click(screen.getByRole('button', { name: 'Submit' }));
    await waitFor(() => expect(submitted).toHaveLength(1));
    expect(posted[0].cluster).toBe('gpu-slurm');
    expect(posted[0].spec).not.toHaveProperty('walltime');
    expect(posted[0].spec).not.toHaveProperty('memory');

    // Typed: the value is the user's, the note goes.
    fireEvent.change(walltime, { target: { value: '00:20:00' } });
    expect(walltime.value).toBe('00:20:00');
    expect(walltime.dataset.default).toBe('false');
    expect(note('walltime')).toBeUndefined();
    fireEvent.click(screen.getByRole('button', { name: 'Submit' }));
    await waitFor(() => expect(submitted).toHaveLength(2));
    expect(posted[1].spec.walltime).toBe('00:20:00');

    // Emptied: it stays empty (the default is said again beside it).
    fireEvent.change(walltime, { target: { value: '' } });
    expect(walltime.value).toBe('');
    expect(note('walltime')).toBe('partition default: 01:00:00');
  });
  it('show a per-node memory default as the value, send nothing for it, and send what is typed', async () => {
    answer = withDefaultMemory(3000, false);
    const { submitted, container } = renderSubmitForm(api.serverSettings);
    const note = noteOf(container);
    const cluster = screen.getByLabelText('Cluster') as HTMLSelectElement;
    await waitFor(() => expect(cluster.value).toBe('local'));
    fireEvent.change(cluster, { target: { value: 'gpu-slurm' } });
    const memory = screen.getByLabelText('Memory per node') as HTMLInputElement;
    expect(memory.value).toBe('3000M');
    expect(memory.dataset.default).toBe('true');
    expect(note('memory')).toBe('partition default: 3000M per node');

    fireEvent.click(screen.getByRole('button', { name: 'Submit' }));
    await waitFor(() => expect(submitted).toHaveLength(1));
    expect(posted[0].spec).not.toHaveProperty('memory');

    fireEvent.change(memory, { target: { value: '6G' } });
    expect(memory.dataset.default).toBe('false');
    expect(note('memory')).toBeUndefined();
    fireEvent.click(screen.getByRole('button', { name: 'Submit' }));
    await waitFor(() => expect(submitted).toHaveLength(2));
    expect(posted[1].spec.memory).toBe('6G');
  });

  it('show a per-CPU memory default as the memory per node of the cores asked for, and send none of it', async () => {
    answer = withDefaultMemory(2000, true);
    const { submitted, container } = renderSubmitForm(api.serverSettings);
    const note = noteOf(container);
    const cluster = screen.getByLabelText('Cluster') as HTMLSelectElement;
    await waitFor(() => expect(cluster.value).toBe('local'));
    fireEvent.change(cluster, { target: { value: 'gpu-slurm' } });
    const memory = screen.getByLabelText('Memory per node') as HTMLInputElement;
    expect(memory.value).toBe('2000M');
    expect(memory.dataset.default).toBe('true');
    expect(note('memory')).toBe(
      'partition default: 2000M per CPU = 2000M for 1 CPU'
    );
    // More cores per task: the figure follows, still the default.
    const cores = screen.getByLabelText('Cores per task') as HTMLInputElement;
    fireEvent.change(cores, { target: { value: '4' } });
    expect(memory.value).toBe('8000M');
    expect(memory.dataset.default).toBe('true');
    expect(note('memory')).toBe(
      'partition default: 2000M per CPU = 8000M for 4 CPUs'
    );

    // Submitted untouched: the cores go, no --mem, so Slurm applies DefMemPerCPU itself.
    fireEvent.click(screen.getByRole('button', { name: 'Submit' }));
    await waitFor(() => expect(submitted).toHaveLength(1));
    expect(posted[0].spec.cpus).toBe(4);
    expect(posted[0].spec).not.toHaveProperty('memory');

    // Bad cores: the form refuses them, the memory note falls back to the per-CPU figure.
    fireEvent.change(cores, { target: { value: 'four' } });
    expect(memory.value).toBe('');
    expect(note('memory')).toBe('partition default: 2000M per CPU');
    fireEvent.click(screen.getByRole('button', { name: 'Submit' }));
    await waitFor(() =>
      expect(
        container.querySelector('[data-field="cpus"] .jp-EspriVre-fieldProblem')
      ).not.toBeNull()
    );
    expect(posted).toHaveLength(1);
    expect(cores.value).toBe('four');
  });
});
