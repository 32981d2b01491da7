/**
 * A store that sits between zarrita and the network: a least-recently-used cache of
 * chunks within a byte budget, a bound on the requests on their way, and cancellation
 * (AbortSignal) of the requests nobody waits for any more, as when the user moves a
 * slider on before the previous step arrived.
 */
import type {
  AbsolutePath,
  AsyncReadable,
  GetOptions,
  RangeQuery
} from '@zarrita/storage';
import { LRUCache } from 'lru-cache';
import PQueue from 'p-queue';

/** The chunks kept, compressed as they travelled: 256 MiB. */
export const DEFAULT_CACHE_BYTES = 256 * 1024 * 1024;

/** Requests on their way at once: what a browser sends to one HTTP/1.1 host. */
export const DEFAULT_CONCURRENCY = 6;

export interface IChunkCacheOptions {
  /** The byte budget of the cache (sum of the kept chunks' sizes). */
  maxBytes?: number;
  /** At most this many requests of the inner store run at once; the others queue. */
  concurrency?: number;
}

/** What the cache did, for the progress line and the tests. */
export interface ICacheStats {
  hits: number;
  misses: number;
  /** Bytes of the chunks kept now. */
  bytes: number;
  entries: number;
  /** Requests of the inner store that were cancelled (queued or on their way). */
  cancelled: number;
  /** Requests of the inner store running now, and the most there ever were. */
  active: number;
  maxActive: number;
}

/** A key the store answered "no such key" for (zarrita then uses the fill value). */
const MISSING = new Uint8Array(0);

interface IFlight {
  promise: Promise<Uint8Array>;
  controller: AbortController;
  waiters: number;
}

/**
 * Wraps an async zarrita store. A key read twice is fetched once; concurrent reads of a
 * key share one request, which is cancelled only when every reader has given up.
 */
export class ChunkCache implements AsyncReadable {
  constructor(
    private readonly _inner: AsyncReadable,
    options: IChunkCacheOptions = {}
  ) {
    const maxBytes = options.maxBytes ?? DEFAULT_CACHE_BYTES;
    const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    if (!(maxBytes > 0) || !Number.isInteger(concurrency) || concurrency < 1) {
      throw new Error(
        `The chunk cache needs a positive byte budget and concurrency (got ${maxBytes} bytes, ${concurrency} requests).`
      );
    }
    this._cache = new LRUCache<string, Uint8Array>({
      maxSize: maxBytes,
      // A missing key costs its entry, not nothing, so that misses are bounded too.
      sizeCalculation: value => Math.max(1, value.byteLength)
    });
    this._queue = new PQueue({ concurrency });
    const inner = this._inner;
    if (inner.getRange) {
      const getRange = inner.getRange.bind(inner);
      this.getRange = (key, range, opts) =>
        this._read(
          `${key}#${'suffixLength' in range ? `-${range.suffixLength}` : `${range.offset}+${range.length}`}`,
          signal => getRange(key, range, { signal }),
          opts?.signal
        );
    }
  }

  /** Read ranges of a key (sharded Zarr v3), cached per range; set when the inner store can. */
  getRange?: (
    key: AbsolutePath,
    range: RangeQuery,
    opts?: GetOptions
  ) => Promise<Uint8Array | undefined>;

  get(key: AbsolutePath, opts?: GetOptions): Promise<Uint8Array | undefined> {
    return this._read(
      key,
      signal => this._inner.get(key, { signal }),
      opts?.signal
    );
  }

  /** Whether the key (or one of its ranges) is in the cache now. */
  has(key: string): boolean {
    if (this._cache.has(key)) {
      return true;
    }
    for (const k of this._cache.keys()) {
      if (k.startsWith(`${key}#`)) {
        return true;
      }
    }
    return false;
  }

  get stats(): ICacheStats {
    return {
      ...this._stats,
      bytes: this._cache.calculatedSize,
      entries: this._cache.size
    };
  }

  /** Forget every kept chunk (requests on their way are left to finish). */
  clear(): void {
    this._cache.clear();
  }

  private async _read(
    cacheKey: string,
    fetchFn: (signal: AbortSignal) => Promise<Uint8Array | undefined>,
    signal: AbortSignal | undefined
  ): Promise<Uint8Array | undefined> {
    signal?.throwIfAborted();
    const kept = this._cache.get(cacheKey);
    if (kept !== undefined) {
      this._stats.hits++;
      return kept === MISSING ? undefined : kept;
    }
    this._stats.misses++;
    let flight = this._inflight.get(cacheKey);
    if (!flight) {
      flight = this._start(cacheKey, fetchFn);
    }
    const value = await this._wait(cacheKey, flight, signal);
    return value === MISSING ? undefined : value;
  }

  private _start(
    cacheKey: string,
    fetchFn: (signal: AbortSignal) => Promise<Uint8Array | undefined>
  ): IFlight {
    const controller = new AbortController();
    const run = async (): Promise<Uint8Array> => {
      this._stats.active++;
      this._stats.maxActive = Math.max(
        this._stats.maxActive,
        this._stats.active
      );
      try {
        return (await fetchFn(controller.signal)) ?? MISSING;
      } finally {
        this._stats.active--;
      }
    };
    const promise = (
      this._queue.add(run, {
        signal: controller.signal
      }) as Promise<Uint8Array>
    ).then(
      value => {
        if (this._inflight.get(cacheKey) === flight) {
          this._inflight.delete(cacheKey);
        }
        this._cache.set(cacheKey, value);
        return value;
      },
      (reason: unknown) => {
        if (this._inflight.get(cacheKey) === flight) {
          this._inflight.delete(cacheKey);
        }
        throw reason;
      }
    );
    // Nobody may be waiting when it fails (every reader gave up): not an unhandled rejection.
    promise.catch(() => undefined);
    const flight: IFlight = { promise, controller, waiters: 0 };
    this._inflight.set(cacheKey, flight);
    return flight;
  }

  /** The flight's answer, or the reader's own abort; the last reader to leave cancels it. */
  private _wait(
    cacheKey: string,
    flight: IFlight,
    signal: AbortSignal | undefined
  ): Promise<Uint8Array> {
    flight.waiters++;
    return new Promise<Uint8Array>((resolve, reject) => {
      let done = false;
      const onAbort = (): void => {
        if (done) {
          return;
        }
        done = true;
        flight.waiters--;
        if (flight.waiters === 0 && this._inflight.get(cacheKey) === flight) {
          this._inflight.delete(cacheKey);
          this._stats.cancelled++;
          flight.controller.abort(signal?.reason);
        }
        reject(signal?.reason ?? new DOMException('Aborted', 'AbortError'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      flight.promise.then(
        value => {
          if (!done) {
            done = true;
            flight.waiters--;
            signal?.removeEventListener('abort', onAbort);
            resolve(value);
          }
        },
        (reason: unknown) => {
          if (!done) {
            done = true;
            flight.waiters--;
            signal?.removeEventListener('abort', onAbort);
            reject(reason);
          }
        }
      );
    });
  }

  private readonly _cache: LRUCache<string, Uint8Array>;
  private readonly _queue: PQueue;
  private readonly _inflight = new Map<string, IFlight>();
  private readonly _stats = {
    hits: 0,
    misses: 0,
    cancelled: 0,
    active: 0,
    maxActive: 0
  };
}
