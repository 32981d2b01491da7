import type { Partition } from '@espri-vre/core';
import type { TranslationBundle } from '@jupyterlab/translation';

/**
 * What the submission form's memory and walltime fields say when left empty: the value
 * the cluster gives the job, with its source ("cluster default: 01:00:00"), so that a
 * hint is not taken for a value typed in (issue 20).
 */
export interface IFieldDefaults {
  memory: string;
  walltime: string;
}

/**
 * The defaults of the partition chosen (or of the cluster's default partition when none
 * is): Slurm gives a job without a time limit the partition's DefaultTime, else its
 * MaxTime; the clusters' answer has no default memory, only the most a node offers,
 * which is said as such rather than guessed.
 */
export function fieldDefaults(
  partitions: Partition[],
  chosen: string,
  trans: TranslationBundle
): IFieldDefaults {
  const partition =
    partitions.find(p => p.name === chosen) ??
    (chosen ? undefined : partitions.find(p => p.default));
  if (!partition) {
    return {
      memory: trans.__('cluster default'),
      walltime: trans.__('cluster default')
    };
  }
  const seconds = partition.default_time ?? partition.max_time ?? null;
  const maxMemory = partition.max_memory ?? null;
  return {
    memory:
      maxMemory === null
        ? trans.__('cluster default')
        : trans.__('cluster default (at most %1 per node)', `${maxMemory}M`),
    walltime:
      seconds === null
        ? trans.__('cluster default: no limit')
        : trans.__('cluster default: %1', formatWalltime(seconds))
  };
}

/** Seconds in the walltime field's own format: 'HH:MM:SS', or 'D-HH:MM:SS' from a day. */
export function formatWalltime(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const pad = (n: number): string => String(n).padStart(2, '0');
  const days = Math.floor(s / 86400);
  const clock = `${pad(Math.floor((s % 86400) / 3600))}:${pad(
    Math.floor((s % 3600) / 60)
  )}:${pad(s % 60)}`;
  return days ? `${days}-${clock}` : clock;
}
