import type { Partition } from '@espri-vre/core';
import type { TranslationBundle } from '@jupyterlab/translation';

/**
 * What a job gets for a resource left empty in the submission form, and from where:
 * shown in the field as a value with its source ("partition default: 01:00:00"), so
 * that a hint is not taken for a value typed in, nor a value for a hint (issue 20).
 */
export interface IFieldDefault {
  /**
   * The value in the field's own format, shown in the field while it is left empty;
   * null when there is none to show (no time limit, a memory the clusters' answer
   * does not give).
   */
  value: string | null;
  /** Where it comes from and what it is, in words: the field's note. */
  text: string;
}

/** The defaults of the fields that have one. */
export interface IFieldDefaults {
  memory: IFieldDefault;
  walltime: IFieldDefault;
}

/**
 * The defaults of the partition chosen (or of the cluster's default partition when none
 * is): Slurm gives a job without a time limit the partition's DefaultTime, else its
 * MaxTime (both the partition's default for the job), and a job without a memory
 * request the partition's DefMemPerNode or DefMemPerCPU (see `memoryDefault`).
 */
export function fieldDefaults(
  partitions: Partition[],
  chosen: string,
  trans: TranslationBundle
): IFieldDefaults {
  const partition =
    partitions.find(p => p.name === chosen) ??
    (chosen ? undefined : partitions.find(p => p.default));
  const unknown = { value: null, text: trans.__('cluster default') };
  if (!partition) {
    return { memory: unknown, walltime: unknown };
  }
  const seconds = partition.default_time ?? partition.max_time ?? null;
  return {
    memory: memoryDefault(partition, trans) ?? unknown,
    walltime:
      seconds === null
        ? { value: null, text: trans.__('cluster default: no limit') }
        : {
            value: formatWalltime(seconds),
            text: trans.__('partition default: %1', formatWalltime(seconds))
          }
  };
}

/**
 * The partition's default memory: a per-node one is the field's value (the field is
 * memory per node, sent as --mem). A per-CPU one is only said beside the field: shown
 * in it, it would read as memory per node, and edited there it would be sent as --mem;
 * the memory per node it makes depends on the CPUs Slurm allocates on each node (whole
 * cores or threads, by its configuration), so it is not computed here. Without a
 * default, the most a node offers is said as such rather than a default guessed; null
 * when the answer gives neither.
 */
function memoryDefault(
  partition: Partition,
  trans: TranslationBundle
): IFieldDefault | null {
  const megabytes = partition.default_memory ?? null;
  if (megabytes !== null) {
    const amount = `${megabytes}M`;
    return partition.default_memory_per_cpu
      ? {
          value: null,
          text: trans.__('partition default: %1 per CPU', amount)
        }
      : {
          value: amount,
          text: trans.__('partition default: %1 per node', amount)
        };
  }
  const maxMemory = partition.max_memory ?? null;
  return maxMemory === null
    ? null
    : {
        value: null,
        text: trans.__('cluster default (at most %1 per node)', `${maxMemory}M`)
      };
}

/**
 * What a field with a default shows: what was typed, or the default's value while
 * nothing was (`isDefault`: the job gets the default, the field's note says so). A
 * field emptied by the user stays empty rather than filling again under the cursor.
 */
export function shownValue(
  typed: string,
  edited: boolean,
  fallback: IFieldDefault
): { value: string; isDefault: boolean } {
  const isDefault = typed.trim() === '';
  return {
    value: isDefault && !edited ? (fallback.value ?? '') : typed,
    isDefault
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
