/**
 * A zarrita store whose keys come from the kernel through a widget's comm: the
 * Python `espri_vre.preview(obj)` serves an xarray object as a virtual Zarr v2
 * store, each chunk computed when asked (docs/previews.md, "From a notebook").
 * The consolidated metadata arrives with the widget's state, so only chunks
 * travel: a `get` message per key, answered with the chunk's bytes in the
 * message's buffer.
 */
import type { AbsolutePath, AsyncReadable, GetOptions } from '@zarrita/storage';
import type { Transfer } from './reader';

/** The version of the messages, as the kernel's `PROTOCOL_VERSION`. */
export const KERNEL_PROTOCOL_VERSION = 1;

/** How long a chunk may take in the kernel (it waits while a cell runs). */
export const DEFAULT_KERNEL_TIMEOUT_MS = 120_000;

/** A buffer as the widget manager hands it over. */
export type CommBuffer = ArrayBuffer | ArrayBufferView;

/** The widget's comm, as the store uses it (the widget model, or a test's fake). */
export interface IKernelChannel {
  send(content: Record<string, unknown>, buffers?: ArrayBuffer[]): void;
  /** Calls `handler` with each custom message; returns what stops listening. */
  listen(
    handler: (content: Record<string, unknown>, buffers: CommBuffer[]) => void
  ): () => void;
}

export interface IKernelStoreOptions {
  /** The consolidated metadata (`.zmetadata`) as JSON, from the widget's state. */
  zmetadata?: string;
  /** Milliseconds to wait for one answer. */
  timeout?: number;
}

interface IPending {
  key: string;
  resolve: (value: Uint8Array | undefined) => void;
  reject: (reason: unknown) => void;
  timer: ReturnType<typeof setTimeout>;
  cleanup: () => void;
}

const METADATA_LEAVES = new Set(['.zarray', '.zattrs', '.zgroup', 'zarr.json']);

function bytesOf(buffer: CommBuffer | undefined): Uint8Array {
  if (buffer === undefined) {
    return new Uint8Array(0);
  }
  if (buffer instanceof ArrayBuffer) {
    return new Uint8Array(buffer);
  }
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

export class KernelStore implements AsyncReadable {
  constructor(
    private readonly _channel: IKernelChannel,
    options: IKernelStoreOptions = {}
  ) {
    this._timeout = options.timeout ?? DEFAULT_KERNEL_TIMEOUT_MS;
    if (options.zmetadata) {
      const text = options.zmetadata;
      const parsed = JSON.parse(text) as {
        metadata?: Record<string, unknown>;
      };
      const encoder = new TextEncoder();
      this._local.set('.zmetadata', encoder.encode(text));
      for (const [key, value] of Object.entries(parsed.metadata ?? {})) {
        this._local.set(key, encoder.encode(JSON.stringify(value)));
      }
    }
    this._stop = this._channel.listen((content, buffers) =>
      this._onMessage(content, buffers)
    );
  }

  /** Requests and bytes that came from the kernel (the reader's progress). */
  readonly transfer: Transfer = { requests: 0, bytes: 0, pending: 0 };

  /** Called when `transfer` changes. */
  onChange: () => void = () => undefined;

  /** Count into the reader's transfer record (see `openZarrStore`). */
  track(transfer: Transfer, onChange: () => void): this {
    Object.assign(transfer, this.transfer);
    (this as { transfer: Transfer }).transfer = transfer;
    this.onChange = onChange;
    return this;
  }

  get isDisposed(): boolean {
    return this._disposed !== null;
  }

  async get(
    key: AbsolutePath,
    opts?: GetOptions
  ): Promise<Uint8Array | undefined> {
    const path = key.replace(/^\/+/, '');
    if (this._local.has(path)) {
      return this._local.get(path);
    }
    const leaf = path.split('/').pop() ?? '';
    if (this._local.size > 0 && (METADATA_LEAVES.has(leaf) || path === '')) {
      // The metadata is all here: a key it does not name is not in the store.
      return undefined;
    }
    if (this._disposed !== null) {
      throw new Error(this._disposed);
    }
    const signal = opts?.signal;
    signal?.throwIfAborted();
    const id = `${this._prefix}-${++this._nextId}`;
    return new Promise<Uint8Array | undefined>((resolve, reject) => {
      const onAbort = (): void => {
        this._settle(id)?.reject(
          signal?.reason ?? new DOMException('Aborted', 'AbortError')
        );
      };
      const timer = setTimeout(() => {
        this._settle(id)?.reject(
          new Error(
            `The kernel did not send ${path} within ${Math.round(this._timeout / 1000)} s: is it busy running a cell, or gone? Run the cell again when it is idle.`
          )
        );
      }, this._timeout);
      signal?.addEventListener('abort', onAbort, { once: true });
      this._pending.set(id, {
        key: path,
        resolve,
        reject,
        timer,
        cleanup: () => signal?.removeEventListener('abort', onAbort)
      });
      this.transfer.requests++;
      this.transfer.pending++;
      this.onChange();
      try {
        this._channel.send({
          protocol: KERNEL_PROTOCOL_VERSION,
          type: 'get',
          id,
          key: path
        });
      } catch (reason) {
        this._settle(id)?.reject(reason);
      }
    });
  }

  /** Reject what is pending and every later read with `reason` (the comm closed). */
  dispose(
    reason = 'The preview lost its kernel (the widget was closed or the kernel restarted): run the cell again.'
  ): void {
    if (this._disposed !== null) {
      return;
    }
    this._disposed = reason;
    this._stop();
    for (const id of [...this._pending.keys()]) {
      this._settle(id)?.reject(new Error(reason));
    }
  }

  private _settle(id: string): IPending | undefined {
    const pending = this._pending.get(id);
    if (!pending) {
      return undefined;
    }
    this._pending.delete(id);
    clearTimeout(pending.timer);
    pending.cleanup();
    this.transfer.pending--;
    this.onChange();
    return pending;
  }

  private _onMessage(
    content: Record<string, unknown>,
    buffers: CommBuffer[]
  ): void {
    if (content.type !== 'answer') {
      return;
    }
    const pending = this._settle(String(content.id));
    if (!pending) {
      // Answered after its reader gave up (aborted, timed out): nobody waits.
      return;
    }
    const status = String(content.status);
    if (status === 'ok') {
      const bytes = bytesOf(buffers[0]);
      this.transfer.bytes += bytes.byteLength;
      this.onChange();
      pending.resolve(bytes);
    } else if (status === 'missing') {
      pending.resolve(undefined);
    } else {
      pending.reject(
        new Error(
          String(content.message ?? `The kernel could not read ${pending.key}.`)
        )
      );
    }
  }

  private readonly _local = new Map<string, Uint8Array>();
  private readonly _pending = new Map<string, IPending>();
  /** Tells this store's requests from another's on the same comm. */
  private readonly _prefix = Math.random().toString(36).slice(2, 10);
  private readonly _timeout: number;
  private readonly _stop: () => void;
  private _nextId = 0;
  private _disposed: string | null = null;
}
