import type { NotebookPanel } from '@jupyterlab/notebook';
import type { TranslationBundle } from '@jupyterlab/translation';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';
import {
  kernelRun,
  metadataUpdate,
  type IProvenanceMetadata,
  type ProvenanceService,
  type RecordingState
} from './model';

/**
 * The key of the notebook metadata that keeps the run id and the last hash.
 */
export const METADATA_KEY = 'espri_vre';

/**
 * The recording indicator of a notebook's toolbar: recording, paused or off, for the
 * notebook's own kernel; a click opens the timeline. After each cell it asks the server for
 * the notebook's runs, and keeps the run id and last hash in the notebook's metadata.
 */
export class RecordingIndicator extends ReactWidget {
  constructor(options: RecordingIndicator.IOptions) {
    super();
    this._options = options;
    this.addClass('jp-EspriVre-provenanceIndicator');
    const panel = options.panel;
    const refresh = (): void => this.refreshSoon();
    panel.sessionContext.kernelChanged.connect(refresh);
    panel.sessionContext.statusChanged.connect((_, status) => {
      if (status === 'idle') {
        refresh();
      }
    });
    panel.context.pathChanged.connect(refresh);
    void panel.context.ready.then(refresh);
  }

  get state(): RecordingState {
    return this._state;
  }

  /**
   * Asks again after the kernel settles (a cell's last events are written when it ends).
   */
  refreshSoon(): void {
    if (this._timer !== null) {
      window.clearTimeout(this._timer);
    }
    this._timer = window.setTimeout(() => {
      this._timer = null;
      void this.refresh();
    }, 250);
  }

  async refresh(): Promise<void> {
    const { panel, service } = this._options;
    if (this.isDisposed || !panel.context.isReady) {
      return;
    }
    const kernelId = panel.sessionContext.session?.kernel?.id;
    try {
      const answer = await service.runs(panel.context.path, kernelId);
      const { state, run } = kernelRun(answer.runs, kernelId);
      // A kernel that records opens its log with the first cell: until then the server
      // says it waits (no run on disk yet), which is recording, not off.
      const waiting =
        run === null &&
        kernelId !== undefined &&
        answer.waiting?.kernel_id === kernelId;
      this._state = waiting ? 'recording' : state;
      this._run = run?.run ?? null;
      this._detail = run
        ? this._options.trans.__(
            'Run %1: %2 events, last hash %3',
            run.run,
            String(run.events),
            (run.last_hash ?? '').slice(0, 12)
          )
        : waiting
          ? this._options.trans.__(
              'Recording: the log opens with the first cell run.'
            )
          : this._options.trans.__(
              "This notebook's kernel is not recording. Load it with %load_ext espri_vre."
            );
      if (this._options.keepInMetadata()) {
        this._keep(run);
      }
    } catch (error) {
      this._state = 'unknown';
      this._detail = this._options.trans.__(
        'The provenance state could not be read: %1',
        error instanceof Error ? error.message : String(error)
      );
    }
    this.update();
  }

  private _keep(run: IProvenanceMetadata | null): void {
    const model = this._options.panel.content.model;
    if (!model) {
      return;
    }
    const all = (model.getMetadata(METADATA_KEY) ?? {}) as Record<
      string,
      unknown
    >;
    const kept = all.provenance as Partial<IProvenanceMetadata> | undefined;
    const update = metadataUpdate(kept, run);
    if (update) {
      model.setMetadata(METADATA_KEY, { ...all, provenance: update });
    }
  }

  protected render(): React.ReactElement {
    const { trans } = this._options;
    const labels: Record<RecordingState, string> = {
      recording: trans.__('Recording'),
      paused: trans.__('Paused'),
      off: trans.__('Not recording'),
      unknown: trans.__('Provenance unknown')
    };
    return (
      <button
        type="button"
        className={`jp-EspriVre-provenanceState jp-mod-${this._state}`}
        data-state={this._state}
        data-run={this._run ?? ''}
        title={this._detail}
        onClick={() => this._options.openTimeline(this._run)}
      >
        <span className="jp-EspriVre-provenanceDot" aria-hidden="true" />
        {labels[this._state]}
      </button>
    );
  }

  private _options: RecordingIndicator.IOptions;
  private _state: RecordingState = 'unknown';
  private _run: string | null = null;
  private _detail = '';
  private _timer: number | null = null;
}

export namespace RecordingIndicator {
  export interface IOptions {
    panel: NotebookPanel;
    service: ProvenanceService;
    trans: TranslationBundle;
    keepInMetadata: () => boolean;
    openTimeline: (run: string | null) => void;
  }
}
