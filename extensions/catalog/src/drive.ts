/**
 * A data root as a drive of JupyterLab's file browser (`<drive>:path`), read-only,
 * backed by the server's confined data routes: folders from
 * `data/roots/<id>/list` (paged), file contents from `data/files/@<id>/<path>`.
 */
import {
  apiUrl,
  type DataRootStatus,
  requestAPI,
  requestBytes
} from '@espri-vre/core';
import type { Contents, ServerConnection } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';
import { Signal } from '@lumino/signaling';

/** What `data/roots/<id>/list` answers. */
export interface RootListing {
  root: string;
  path: string;
  name: string;
  type: 'directory' | 'file';
  size: number | null;
  mtime: string;
  zarr: boolean;
  writable: boolean;
  entries: RootEntry[] | null;
  offset: number;
  total: number;
  complete: boolean;
}

export interface RootEntry {
  name: string;
  path: string;
  type: 'directory' | 'file';
  size: number | null;
  mtime: string;
  zarr: boolean;
}

/** Entries asked for per request (the server's bound is 5,000). */
export const PAGE_SIZE = 1000;
/**
 * Entries a folder shows at most: the file browser renders every entry it is given,
 * and a folder of the centre's storage may hold millions.
 */
export const MAX_SHOWN = 10000;
/** Files larger than this are not opened as documents (use Preview). */
export const MAX_OPEN_BYTES = 16 * 1024 * 1024;

/** The drive name of a data root (what precedes ':' in the file browser's paths). */
export function driveName(rootId: string): string {
  // Neither ':' nor '/' may appear in a drive name.
  return `data-${rootId.replace(/[:/]/g, '_')}`;
}

/** The listing's entries as the Contents models of the file browser. */
export function toModel(
  entry: RootEntry | RootListing,
  path: string
): Contents.IModel {
  return {
    name: entry.name,
    path,
    type: entry.type,
    writable: false,
    created: entry.mtime,
    last_modified: entry.mtime,
    mimetype: '',
    content: null,
    format: null,
    ...(entry.size === null ? {} : { size: entry.size })
  };
}

/** Decoded file content in the format the document asks for. */
export function decodeContent(
  bytes: Uint8Array,
  format: Contents.FileFormat | undefined,
  name: string,
  trans: TranslationBundle
): { content: unknown; format: Contents.FileFormat } {
  if (format === 'base64') {
    // btoa takes a binary string; built in blocks to keep the call stack small.
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) {
      binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    }
    return { content: btoa(binary), format: 'base64' };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new Error(
      trans.__(
        '%1 is not a text file: use Preview or Open in Notebook from its context menu.',
        name
      )
    );
  }
  return format === 'json'
    ? { content: JSON.parse(text) as unknown, format: 'json' }
    : { content: text, format: 'text' };
}

/**
 * A read-only drive on one data root.
 */
export class DataRootDrive implements Contents.IDrive {
  constructor(options: DataRootDrive.IOptions) {
    this.root = options.root;
    this.name = driveName(options.root.id);
    this.serverSettings = options.serverSettings;
    this._trans = options.trans;
    this._onCut = options.onCut;
  }

  readonly root: Pick<DataRootStatus, 'id' | 'title' | 'path'>;
  readonly name: string;
  readonly serverSettings: ServerConnection.ISettings;

  get fileChanged(): Signal<this, Contents.IChangedArgs> {
    return this._fileChanged;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    this._isDisposed = true;
    Signal.clearData(this);
  }

  /** Whether a path of this drive is a folder the listings flagged as a Zarr store. */
  isZarrStore(localPath: string): boolean {
    return this._zarr.has(localPath.replace(/^\/+|\/+$/g, ''));
  }

  /** The server path of a path of this drive (inside the data root). */
  serverPath(localPath: string): string {
    const inside = localPath.replace(/^\/+|\/+$/g, '');
    const base = this.root.path.replace(/\/+$/, '');
    return inside ? `${base}/${inside}` : base;
  }

  async get(
    localPath: string,
    options: Contents.IFetchOptions = {}
  ): Promise<Contents.IModel> {
    const path = localPath.replace(/^\/+|\/+$/g, '');
    const first = await this._list(path, 0);
    if (first.type === 'file') {
      const model = toModel(first, path);
      return options.content ? this._withContent(model, options) : model;
    }
    if (first.zarr) {
      this._zarr.add(path);
    }
    const entries = [...(first.entries ?? [])];
    while (entries.length < Math.min(first.total, MAX_SHOWN)) {
      const page = await this._list(path, entries.length);
      if (!page.entries?.length) {
        break;
      }
      entries.push(...page.entries);
    }
    for (const entry of entries) {
      if (entry.zarr) {
        this._zarr.add(entry.path);
      }
    }
    // Said once per folder: the file browser lists its folder again every few seconds.
    if (
      (first.total > entries.length || !first.complete) &&
      !this._cut.has(path)
    ) {
      this._cut.add(path);
      this._onCut?.(path, entries.length, first.complete ? first.total : null);
    }
    return {
      ...toModel(first, path),
      content:
        options.content === false
          ? null
          : entries.map(entry => toModel(entry, entry.path)),
      format: 'json'
    };
  }

  async getDownloadUrl(localPath: string): Promise<string> {
    return this._filesUrl(localPath);
  }

  newUntitled(): Promise<Contents.IModel> {
    return this._readOnly();
  }

  delete(): Promise<void> {
    return this._readOnly();
  }

  rename(): Promise<Contents.IModel> {
    return this._readOnly();
  }

  save(): Promise<Contents.IModel> {
    return this._readOnly();
  }

  copy(): Promise<Contents.IModel> {
    return this._readOnly();
  }

  createCheckpoint(): Promise<Contents.ICheckpointModel> {
    return this._readOnly();
  }

  /** None: opening a document asks for them, and a read-only file has none. */
  async listCheckpoints(): Promise<Contents.ICheckpointModel[]> {
    return [];
  }

  restoreCheckpoint(): Promise<void> {
    return this._readOnly();
  }

  deleteCheckpoint(): Promise<void> {
    return this._readOnly();
  }

  private _list(path: string, offset: number): Promise<RootListing> {
    const query = new URLSearchParams({
      path,
      offset: String(offset),
      limit: String(PAGE_SIZE)
    });
    return requestAPI<RootListing>(
      `data/roots/${encodeURIComponent(this.root.id)}/list?${query}`,
      {},
      this.serverSettings
    );
  }

  private _filesUrl(localPath: string): string {
    const parts = [`@${this.root.id}`, ...localPath.split('/').filter(Boolean)];
    return apiUrl(
      `data/files/${parts.map(encodeURIComponent).join('/')}`,
      this.serverSettings
    );
  }

  private async _withContent(
    model: Contents.IModel,
    options: Contents.IFetchOptions
  ): Promise<Contents.IModel> {
    if ((model.size ?? 0) > MAX_OPEN_BYTES) {
      throw new Error(
        this._trans.__(
          '%1 is larger than %2 MB: use Preview or Open in Notebook from its context menu.',
          model.name,
          String(MAX_OPEN_BYTES / 1024 / 1024)
        )
      );
    }
    const { data } = await requestBytes(
      this._filesUrl(model.path),
      {},
      this.serverSettings
    );
    return {
      ...model,
      ...decodeContent(
        data,
        options.format ?? undefined,
        model.name,
        this._trans
      ),
      type: options.type ?? model.type,
      mimetype:
        options.format === 'base64' ? 'application/octet-stream' : 'text/plain'
    };
  }

  private _readOnly(): Promise<never> {
    return Promise.reject(
      new Error(
        this._trans.__(
          'The data root %1 is read-only: copy what you need to your home directory.',
          this.root.title
        )
      )
    );
  }

  private _trans: TranslationBundle;
  private _onCut: DataRootDrive.IOptions['onCut'];
  private _fileChanged = new Signal<this, Contents.IChangedArgs>(this);
  private _zarr = new Set<string>();
  private _cut = new Set<string>();
  private _isDisposed = false;
}

export namespace DataRootDrive {
  export interface IOptions {
    root: Pick<DataRootStatus, 'id' | 'title' | 'path'>;
    serverSettings: ServerConnection.ISettings;
    trans: TranslationBundle;
    /**
     * Told when a folder shows only its first `shown` entries, of `total` (null when
     * the server stopped counting).
     */
    onCut?: (path: string, shown: number, total: number | null) => void;
  }
}
