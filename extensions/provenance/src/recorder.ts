/**
 * `IProvenanceRecorder`: a dataset picked in the user interface recorded by the
 * notebook's own kernel (`espri_vre.kernel.record_dataset`), so that it joins the
 * run's hash-chained log like every other event.
 */
import type { DatasetReference, IProvenanceRecorder } from '@espri-vre/core';
import type { Kernel, KernelMessage } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';

/**
 * What `espri_vre.provenance.identifiers.DatasetIdentifiers` takes of a reference:
 * one CMIP6 `tracking_id` names one file, so a dataset of several files gives none.
 */
export function kernelIdentifiers(
  dataset: DatasetReference
): Record<string, string> {
  const { pid, doi, instance_id, version, tracking_ids } = dataset.identifiers;
  const out: Record<string, string> = {};
  const kept: Record<string, string | undefined> = {
    pid,
    doi,
    instance_id,
    version,
    tracking_id: tracking_ids?.length === 1 ? tracking_ids[0] : undefined
  };
  for (const [name, value] of Object.entries(kept)) {
    if (value !== undefined && value !== '') {
      out[name] = value;
    }
  }
  return out;
}

/**
 * Where the dataset is, as the kernel records it: an absolute path on the shared file
 * system, else its first URL.
 */
export function kernelLocation(dataset: DatasetReference): {
  path: string | null;
  url: string | null;
} {
  const file = dataset.access.find(
    access => access.protocol === 'file' && access.url.startsWith('/')
  );
  if (file) {
    return { path: file.url, url: null };
  }
  const other = dataset.access.find(access => access.protocol !== 'file');
  return { path: null, url: other?.url ?? null };
}

/**
 * The Python expression that records the dataset and evaluates to whether it was
 * recorded. It is sent as a user expression of a silent request: it runs in the
 * kernel without a cell, a history entry or a name left in the user's namespace. The
 * arguments travel as JSON, whose string literals Python reads as its own.
 */
export function recordDatasetExpression(dataset: DatasetReference): string {
  const args = JSON.stringify({
    identifiers: kernelIdentifiers(dataset),
    ...kernelLocation(dataset)
  });
  return (
    '(lambda a: ' +
    "__import__('espri_vre.kernel', fromlist=['record_dataset']).record_dataset(" +
    "__import__('espri_vre.provenance.identifiers', fromlist=['DatasetIdentifiers'])" +
    ".DatasetIdentifiers(**a['identifiers']), path=a['path'], url=a['url']))" +
    `(__import__('json').loads(${JSON.stringify(args)}))`
  );
}

/**
 * Whether the kernel recorded the dataset, from its reply.
 *
 * @throws Error with the kernel's error when the expression failed.
 */
export function recordedFrom(
  content: KernelMessage.IExecuteReplyMsg['content'],
  trans: TranslationBundle
): boolean {
  const result =
    content.status === 'ok'
      ? (content.user_expressions['recorded'] as
          | {
              status: string;
              data?: Record<string, unknown>;
              ename?: string;
              evalue?: string;
            }
          | undefined)
      : undefined;
  if (result?.status === 'ok') {
    return result.data?.['text/plain'] === 'True';
  }
  const why =
    result?.ename !== undefined
      ? `${result.ename}: ${result.evalue ?? ''}`
      : content.status;
  throw new Error(
    trans.__("The notebook's kernel could not record the dataset (%1).", why)
  );
}

/**
 * The recorder: each notebook's dataset goes to that notebook's kernel.
 */
export class ProvenanceRecorder implements IProvenanceRecorder {
  constructor(options: ProvenanceRecorder.IOptions) {
    this._kernelOf = options.kernelOf;
    this._trans = options.trans;
  }

  async addDataset(
    notebookPath: string,
    dataset: DatasetReference
  ): Promise<boolean> {
    const kernel = this._kernelOf(notebookPath);
    if (kernel === null) {
      throw new Error(
        this._trans.__(
          'No kernel runs for %1: start it, then add the dataset again.',
          notebookPath
        )
      );
    }
    const reply = await kernel.requestExecute({
      code: '',
      silent: true,
      store_history: false,
      allow_stdin: false,
      user_expressions: { recorded: recordDatasetExpression(dataset) }
    }).done;
    return recordedFrom(reply.content, this._trans);
  }

  private readonly _kernelOf: ProvenanceRecorder.IOptions['kernelOf'];
  private readonly _trans: TranslationBundle;
}

export namespace ProvenanceRecorder {
  export interface IOptions {
    /** The kernel of the open notebook at this path, or null. */
    kernelOf: (notebookPath: string) => Kernel.IKernelConnection | null;
    trans: TranslationBundle;
  }
}
