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
 * request the partition's DefMemPerNode or DefMemPerCPU times the CPUs it asks for on
 * a node (`cpus`: the form's "Cores per task", as typed; see `memoryDefault`).
 */
export function fieldDefaults(
  partitions: Partition[],
  chosen: string,
  trans: TranslationBundle,
  cpus = ''
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
    memory: memoryDefault(partition, cpusPerNode(cpus), trans) ?? unknown,
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
 * The CPUs a job of the form asks for on each node: the form sends one task per node
 * (it has no tasks field, and sbatch's --nodes without --ntasks starts one per node), so
 * its cores per task, or Slurm's own default of one CPU per task when left empty; null
 * when what is typed is not a count (the form's own check then says so).
 */
export function cpusPerNode(cpus: string): number | null {
  const typed = cpus.trim();
  if (typed === '') {
    return 1;
  }
  return /^[0-9]+$/.test(typed) && Number(typed) > 0 ? Number(typed) : null;
}

/**
 * The partition's default memory, as memory per node (the field's unit, sent as --mem
 * once typed in): DefMemPerNode as it is, DefMemPerCPU times the CPUs the job asks for
 * on a node, with the sum said in the note ("2000M per CPU = 8000M for 4 CPUs"). Slurm
 * may allocate more CPUs than asked (whole cores on nodes with several threads per
 * core), and then more memory: the figure is what the request gets on a node with one
 * thread per core. Without a default, the most a node offers is said as such rather
 * than a default guessed; null when the answer gives neither.
 */
function memoryDefault(
  partition: Partition,
  cpus: number | null,
  trans: TranslationBundle
): IFieldDefault | null {
  const megabytes = partition.default_memory ?? null;
  if (megabytes !== null && partition.default_memory_per_cpu) {
    const perCpu = `${megabytes}M`;
    if (cpus === null) {
      return {
        value: null,
        text: trans.__('partition default: %1 per CPU', perCpu)
      };
    }
    const perNode = `${megabytes * cpus}M`;
    return {
      value: perNode,
      text: trans._n(
        'partition default: %2 per CPU = %3 for %1 CPU',
        'partition default: %2 per CPU = %3 for %1 CPUs',
        // n is the first value of a plural message: %1.
        cpus,
        perCpu,
        perNode
      )
    };
  }
  if (megabytes !== null) {
    const amount = `${megabytes}M`;
    return {
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
