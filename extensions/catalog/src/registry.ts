import {
  type CatalogStatus,
  type ClusterStatus,
  type DataRootStatus,
  ICatalogRegistry,
  isAbortError,
  requestAPI,
  type StatusResponse
} from '@espri-vre/core';
import type { ServerConnection } from '@jupyterlab/services';
import { PromiseDelegate } from '@lumino/coreutils';
import { Signal } from '@lumino/signaling';

/**
 * The catalogue registry, fed by `GET /espri-vre/api/status`.
 */
export class CatalogRegistry implements ICatalogRegistry {
  constructor(options: CatalogRegistry.IOptions = {}) {
    this._serverSettings = options.serverSettings;
  }

  get state(): ICatalogRegistry.State {
    return this._state;
  }

  get status(): StatusResponse | null {
    return this._status;
  }

  get catalogs(): readonly CatalogStatus[] {
    return this._status?.catalogs ?? [];
  }

  get clusters(): readonly ClusterStatus[] {
    return this._status?.clusters ?? [];
  }

  get dataRoots(): readonly DataRootStatus[] {
    return this._status?.data_roots ?? [];
  }

  get error(): Error | null {
    return this._error;
  }

  get changed(): Signal<this, void> {
    return this._changed;
  }

  get(id: string): CatalogStatus | undefined {
    return this.catalogs.find(catalog => catalog.id === id);
  }

  /**
   * Ask the server for the status again.
   *
   * A call made while a request is under way cancels that request and sends a new
   * one, because the user asked for fresh reachability checks; every caller's
   * promise then settles with the newest answer.
   */
  refresh(): Promise<StatusResponse> {
    this._controller?.abort();
    const controller = new AbortController();
    this._controller = controller;
    const pending = (this._pending ??= new PromiseDelegate<StatusResponse>());
    this._setState('loading');

    requestAPI<StatusResponse>(
      'status',
      { signal: controller.signal },
      this._serverSettings
    ).then(
      status => {
        if (controller !== this._controller) {
          return;
        }
        this._finish();
        this._status = status;
        this._error = null;
        this._setState('ready');
        pending.resolve(status);
      },
      (reason: unknown) => {
        if (controller !== this._controller || isAbortError(reason)) {
          return;
        }
        this._finish();
        this._error =
          reason instanceof Error ? reason : new Error(String(reason));
        this._setState('error');
        pending.reject(this._error);
      }
    );
    return pending.promise;
  }

  private _finish(): void {
    this._controller = null;
    this._pending = null;
  }

  private _setState(state: ICatalogRegistry.State): void {
    this._state = state;
    this._changed.emit();
  }

  private _serverSettings: ServerConnection.ISettings | undefined;
  private _state: ICatalogRegistry.State = 'idle';
  private _status: StatusResponse | null = null;
  private _error: Error | null = null;
  private _controller: AbortController | null = null;
  private _pending: PromiseDelegate<StatusResponse> | null = null;
  private _changed = new Signal<this, void>(this);
}

export namespace CatalogRegistry {
  export interface IOptions {
    /** Server connection settings; JupyterLab's page settings by default. */
    serverSettings?: ServerConnection.ISettings;
  }
}
