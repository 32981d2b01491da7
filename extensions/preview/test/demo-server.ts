import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PYTHON } from './python';

export const FILES_ROUTE = '/espri-vre/api/data/files/';

/** Build the demo data (`python -m espri_vre.demo build`) into a new folder. */
export async function buildDemo(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'espri-vre-preview-'));
  // Not execFileSync: a blocked worker misses vitest's own messages.
  await promisify(execFile)(PYTHON, ['-m', 'espri_vre.demo', 'build', dir]);
  return dir;
}

/**
 * A file server over `dir` that answers as Jupyter's /files/ and the suite's
 * espri-vre/api/data/files/ route do (200, or 206 for a Range request), and records
 * what it was asked. `@<id>/...` after the route names `roots[id]`.
 */
export class DemoServer {
  constructor(
    readonly dir: string,
    private readonly _roots: Record<string, string> = {}
  ) {}

  base = '';
  /** Every path asked for (decoded), and the Range headers. */
  readonly requested: string[] = [];
  readonly ranges: string[] = [];
  /** Requests being answered now, and the most there were at once. */
  active = 0;
  maxActive = 0;
  /** Requests the client gave up on before the answer was sent. */
  aborted = 0;

  /** Hold every answer until {@link release} (to see what queues and what is cancelled). */
  hold(): void {
    this._held = [];
  }

  release(): void {
    const held = this._held ?? [];
    this._held = null;
    held.forEach(go => go());
  }

  /** Resolves when `n` requests have arrived since the last reset. */
  async arrived(n: number): Promise<void> {
    while (this.requested.length < n) {
      await new Promise(resolve => setTimeout(resolve, 5));
    }
  }

  reset(): void {
    this.requested.length = 0;
    this.ranges.length = 0;
    this._generation++;
    this.active = 0;
    this.maxActive = 0;
    this.aborted = 0;
  }

  async start(): Promise<void> {
    this._server = createServer((req, res) => {
      const pathname = decodeURIComponent(
        new URL(req.url ?? '/', 'http://x').pathname
      );
      this.requested.push(pathname);
      // Answers still under way from before the last reset (a step prefetched by an earlier
      // test) are not counted in what the current test reads.
      const generation = this._generation;
      this.active++;
      this.maxActive = Math.max(this.maxActive, this.active);
      let finished = false;
      const done = (): void => {
        if (!finished) {
          finished = true;
          if (generation === this._generation) {
            this.active--;
          }
        }
      };
      // An answer stops counting when the server ends it, before its last bytes can reach
      // the client: counting until the socket's 'close' event let the client's next
      // request (sent as soon as it had the whole body) arrive while the previous answer
      // was still counted, so `maxActive` read one too many now and then.
      const end = res.end.bind(res);
      res.end = ((...args: Parameters<typeof res.end>) => {
        done();
        return end(...args);
      }) as typeof res.end;
      res.on('close', () => {
        if (!res.writableFinished && generation === this._generation) {
          this.aborted++;
        }
        done();
      });
      const answer = (): void => this._answer(pathname, req.headers, res);
      if (this._held) {
        this._held.push(answer);
      } else {
        answer();
      }
    });
    // Idle connections stay open until close(): a server closing one after its 5 s
    // keep-alive timeout races the client reusing it when a loaded machine holds the
    // worker's timers back ('fetch failed' now and then in multiscales.spec.ts).
    this._server.keepAliveTimeout = 0;
    await new Promise<void>(resolve =>
      this._server!.listen(0, '127.0.0.1', resolve)
    );
    this.base = `http://127.0.0.1:${(this._server.address() as AddressInfo).port}`;
  }

  close(removeDir = true): void {
    this.release();
    this._server?.closeAllConnections();
    this._server?.close();
    if (removeDir) {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  private _answer(
    pathname: string,
    headers: Record<string, string | string[] | undefined>,
    res: import('node:http').ServerResponse
  ): void {
    if (res.destroyed) {
      return;
    }
    let path = join(this.dir, pathname);
    if (pathname.startsWith(FILES_ROUTE)) {
      // Mimics espri-vre/api/data/files/: hidden names only inside *.zarr.
      const rest = pathname.slice(FILES_ROUTE.length);
      const parts = rest.split('/');
      const hidden = parts.some(
        (part, i) =>
          part.startsWith('.') &&
          !parts.slice(0, i).some(p => p.endsWith('.zarr'))
      );
      if (hidden || parts.includes('..')) {
        res.writeHead(403, { 'Content-Type': 'application/json' }).end('{}');
        return;
      }
      const root = /^@([^/]+)\//.exec(rest);
      path =
        root && this._roots[root[1]]
          ? join(this._roots[root[1]], rest.slice(root[0].length))
          : join(this.dir, rest);
    } else if (pathname.split('/').some(part => part.startsWith('.'))) {
      // Jupyter's /files/ refuses hidden names: every Zarr v2 key.
      res.writeHead(404).end();
      return;
    }
    let size: number;
    try {
      const st = statSync(path);
      if (!st.isFile()) {
        throw new Error('not a file');
      }
      size = st.size;
    } catch {
      res.writeHead(404).end();
      return;
    }
    const header = headers.range;
    const range = /^bytes=(\d+)-(\d+)$/.exec(
      typeof header === 'string' ? header : ''
    );
    if (range) {
      this.ranges.push(header as string);
      const start = Number(range[1]);
      const end = Math.min(Number(range[2]), size - 1);
      res.writeHead(206, {
        'Content-Length': end - start + 1,
        'Content-Range': `bytes ${start}-${end}/${size}`
      });
      // Read whole and written by end(): an answer stops counting (see start) before any
      // of its bytes leave, which a piped stream would not ensure (the client may have
      // every byte, and send its next request, before the pipe calls end()).
      res.end(readFileSync(path).subarray(start, end + 1));
    } else {
      res.writeHead(200, { 'Content-Length': size });
      res.end(readFileSync(path));
    }
  }

  private _server: Server | null = null;
  private _generation = 0;
  private _held: (() => void)[] | null = null;
}
