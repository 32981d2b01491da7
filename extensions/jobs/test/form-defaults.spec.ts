import type { JobClustersResponse } from '@espri-vre/core';
import { nullTranslator } from '@jupyterlab/translation';
import { describe, expect, it } from 'vitest';
import { fieldDefaults, formatWalltime } from '../src/form-defaults';
import clustersFixture from './fixtures/clusters.json';

const trans = nullTranslator.load('espri_vre');
// The clusters as the server answered them (a local back end and a Slurm one).
const clusters = (clustersFixture as JobClustersResponse).clusters;
const byId = (id: string) => clusters.find(c => c.id === id)!.partitions;

describe('the submission form’s defaults', () => {
  it('says the cluster’s walltime as a value with its source', () => {
    // The Slurm partition has no DefaultTime: a job gets its MaxTime of one hour.
    expect(fieldDefaults(byId('gpu-slurm'), '', trans)).toEqual({
      memory: 'cluster default (at most 7900M per node)',
      walltime: 'cluster default: 01:00:00'
    });
    expect(fieldDefaults(byId('gpu-slurm'), 'debug', trans).walltime).toBe(
      'cluster default: 01:00:00'
    );
    // The local back end sets no time limit.
    expect(fieldDefaults(byId('local'), '', trans).walltime).toBe(
      'cluster default: no limit'
    );
  });

  it('prefers the partition’s DefaultTime and says nothing made up for an unknown partition', () => {
    const [debug] = byId('gpu-slurm');
    expect(
      fieldDefaults([{ ...debug, default_time: 1800 }], '', trans).walltime
    ).toBe('cluster default: 00:30:00');
    expect(fieldDefaults(byId('gpu-slurm'), 'typo', trans)).toEqual({
      memory: 'cluster default',
      walltime: 'cluster default'
    });
  });

  it('writes walltimes in the field’s own format', () => {
    expect(formatWalltime(59)).toBe('00:00:59');
    expect(formatWalltime(3600)).toBe('01:00:00');
    expect(formatWalltime(2 * 86400 + 3661)).toBe('2-01:01:01');
  });
});
