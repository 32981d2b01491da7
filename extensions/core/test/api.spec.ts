import { ServerConnection } from '@jupyterlab/services';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiError,
  apiUrl,
  isAbortError,
  NetworkError,
  requestAPI,
  requestBytes,
  requestJSON,
  requestServer,
  requestText,
  serverFetch,
  serverUrl,
  type StatusResponse
} from '../src';

/**
 * A real HTTP server on a free local port: each test registers what a path answers.
 */
type Route = (req: http.IncomingMessage, res: http.ServerResponse) => void;

let server: http.Server;
let baseUrl: string;
const routes = new Map<string, Route>();
const seen: {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers
    });
    const route = routes.get(path);
    if (route) {
      route(req, res);
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('no route');
    }
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/base/`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise(resolve => server.close(resolve));
});

function settings(url = baseUrl): ServerConnection.ISettings {
  return ServerConnection.makeSettings({ baseUrl: url, token: 'secret-token' });
}

function json(status: number, body: unknown): Route {
  return (_req, res) => {
    res
      .writeHead(status, { 'Content-Type': 'application/json' })
      .end(JSON.stringify(body));
  };
}

const STATUS: StatusResponse = {
  version: '0.1.0',
  catalogs: [
    {
      id: 'demo-stac',
      title: 'Demo STAC catalogue',
      kind: 'stac',
      url: '/tmp/demo/stac/catalog.json',
      reachable: true,
      detail: 'catalog.json read',
      latency_ms: 1.5
    }
  ],
  clusters: [],
  data_roots: []
};

describe('requestAPI', () => {
  it('returns the decoded JSON of a success answer, under espri-vre/api with the token', async () => {
    routes.set('/base/espri-vre/api/status', json(200, STATUS));

    const answer = await requestAPI<StatusResponse>('status', {}, settings());

    expect(answer).toEqual(STATUS);
    const request = seen.at(-1)!;
    expect(request.method).toBe('GET');
    expect(request.url.startsWith('/base/espri-vre/api/status')).toBe(true);
    expect(request.headers.authorization).toBe('token secret-token');
  });

  it('sends the method and JSON body it is given', async () => {
    let received = '';
    routes.set('/base/espri-vre/api/echo', (req, res) => {
      req.setEncoding('utf-8');
      req.on('data', chunk => (received += chunk));
      req.on('end', () => json(201, { method: req.method })(req, res));
    });

    const answer = await requestAPI<{ method: string }>(
      'echo',
      { method: 'POST', body: JSON.stringify({ path: 'a.nc' }) },
      settings()
    );

    expect(answer).toEqual({ method: 'POST' });
    expect(JSON.parse(received)).toEqual({ path: 'a.nc' });
  });

  it('resolves undefined for 204 No Content', async () => {
    routes.set('/base/espri-vre/api/empty', (_req, res) => {
      res.writeHead(204).end();
    });

    await expect(
      requestAPI('empty', { method: 'DELETE' }, settings())
    ).resolves.toBeUndefined();
  });

  it('turns a {"error", "detail"} 4xx body into an ApiError with those fields', async () => {
    routes.set(
      '/base/espri-vre/api/catalogs/nope',
      json(404, {
        error: 'not-found',
        detail: "No catalogue 'nope' is configured on this server."
      })
    );

    const error = await requestAPI('catalogs/nope', {}, settings()).catch(
      (e: unknown) => e
    );

    expect(error).toBeInstanceOf(ApiError);
    const apiError = error as ApiError;
    expect(apiError.status).toBe(404);
    expect(apiError.error).toBe('not-found');
    expect(apiError.detail).toBe(
      "No catalogue 'nope' is configured on this server."
    );
    expect(apiError.url).toBe(`${baseUrl}espri-vre/api/catalogs/nope`);
    expect(apiError.name).toBe('ApiError');
  });

  it('gives an ApiError with the status and the text of a non-JSON 500 body', async () => {
    routes.set('/base/espri-vre/api/crash', (_req, res) => {
      res
        .writeHead(500, 'Internal Server Error', {
          'Content-Type': 'text/html'
        })
        .end('<html><body><h1>500: Internal Server Error</h1></body></html>');
    });

    const error = (await requestAPI('crash', {}, settings()).catch(
      (e: unknown) => e
    )) as ApiError;

    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(500);
    expect(error.error).toBe('http-500');
    expect(error.detail).toBe(
      'The server answered 500 Internal Server Error: 500: Internal Server Error'
    );
  });

  it("uses the message of Tornado's own JSON errors", async () => {
    routes.set(
      '/base/espri-vre/api/forbidden',
      json(403, { message: 'Forbidden', reason: null })
    );

    const error = (await requestAPI('forbidden', {}, settings()).catch(
      (e: unknown) => e
    )) as ApiError;

    expect(error.status).toBe(403);
    expect(error.error).toBe('http-403');
    expect(error.detail).toBe('The server answered 403 Forbidden: Forbidden');
  });

  it('gives an ApiError when a success answer is not JSON', async () => {
    routes.set('/base/espri-vre/api/garbled', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('not json');
    });

    const error = (await requestAPI('garbled', {}, settings()).catch(
      (e: unknown) => e
    )) as ApiError;

    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(200);
    expect(error.error).toBe('invalid-response');
    expect(error.detail).toContain('not json');
  });

  it('gives a NetworkError when nothing listens on the port', async () => {
    const closed = http.createServer();
    await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise(resolve => closed.close(resolve));

    const error = await requestAPI(
      'status',
      {},
      settings(`http://127.0.0.1:${port}/`)
    ).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).url).toBe(
      `http://127.0.0.1:${port}/espri-vre/api/status`
    );
    expect((error as NetworkError).message).toMatch(/could not be reached/);
  });

  it('rejects with an AbortError, not a NetworkError, when aborted in flight', async () => {
    let arrived!: () => void;
    const requestArrived = new Promise<void>(resolve => (arrived = resolve));
    routes.set('/base/espri-vre/api/slow', () => {
      // Never answers: only the abort can end the request.
      arrived();
    });
    const controller = new AbortController();

    const pending = requestAPI(
      'slow',
      { signal: controller.signal },
      settings()
    ).catch((e: unknown) => e);
    await requestArrived;
    controller.abort();
    const error = await pending;

    expect(isAbortError(error)).toBe(true);
    expect(error).not.toBeInstanceOf(NetworkError);
  });

  it('rejects at once with an AbortError when the signal is already aborted', async () => {
    const before = seen.length;

    const error = await requestAPI(
      'status',
      { signal: AbortSignal.abort() },
      settings()
    ).catch((e: unknown) => e);

    expect(isAbortError(error)).toBe(true);
    expect(seen.length).toBe(before);
  });
});

describe('the whole error body', () => {
  it("keeps a refusal's problems and every other field of the body", async () => {
    const refusal = {
      error: 'invalid-job',
      detail: 'The job cannot be submitted.',
      problems: [{ field: 'gpus', message: 'At most 2 GPUs per node.' }],
      cluster: 'gpu'
    };
    routes.set('/base/espri-vre/api/jobs', json(400, refusal));

    const error = (await requestAPI(
      'jobs',
      { method: 'POST', body: '{}' },
      settings()
    ).catch((e: unknown) => e)) as ApiError;

    expect(error).toBeInstanceOf(ApiError);
    expect(error.error).toBe('invalid-job');
    expect(error.problems).toEqual(refusal.problems);
    expect(error.body).toEqual(refusal);
    expect(JSON.parse(error.text)).toEqual(refusal);
  });

  it('has no problems and no body when the answer is not JSON', async () => {
    routes.set('/base/espri-vre/api/proxy-page', (_req, res) => {
      res.writeHead(502, { 'Content-Type': 'text/html' }).end('<p>down</p>');
    });

    const error = (await requestAPI('proxy-page', {}, settings()).catch(
      (e: unknown) => e
    )) as ApiError;

    expect(error.status).toBe(502);
    expect(error.problems).toEqual([]);
    expect(error.body).toBeUndefined();
    expect(error.text).toBe('<p>down</p>');
  });
});

describe('apiUrl and serverUrl', () => {
  it('put an endpoint under espri-vre/api, a server path under the base URL', () => {
    expect(apiUrl('data/info?path=a.nc', settings())).toBe(
      `${baseUrl}espri-vre/api/data/info?path=a.nc`
    );
    expect(serverUrl('dask/clusters/abc', settings())).toBe(
      `${baseUrl}dask/clusters/abc`
    );
  });
});

describe('requestBytes', () => {
  const payload = Uint8Array.from({ length: 50_000 }, (_, i) => i % 251);

  it('returns the bytes, status and headers, reporting progress as they arrive', async () => {
    routes.set('/base/espri-vre/api/table', (_req, res) => {
      res.writeHead(200, {
        'Content-Type': 'application/vnd.apache.arrow.stream',
        'Content-Length': String(payload.byteLength),
        'X-Total-Rows': '1234'
      });
      // Two writes, so that the body arrives in more than one part.
      res.write(payload.subarray(0, 20_000));
      setTimeout(() => res.end(payload.subarray(20_000)), 20);
    });
    const progress: [number, number | null][] = [];

    const answer = await requestBytes(
      apiUrl('table', settings()),
      {},
      settings(),
      (received, total) => progress.push([received, total])
    );

    expect(answer.status).toBe(200);
    expect(answer.headers.get('X-Total-Rows')).toBe('1234');
    expect(answer.data).toEqual(payload);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.at(-1)).toEqual([50_000, 50_000]);
    expect(progress.every(([, total]) => total === 50_000)).toBe(true);
  });

  it('answers a Range request outside the API with 206 and its Content-Range', async () => {
    routes.set('/base/files/data/x.nc', (req, res) => {
      const [, start, end] = /bytes=(\d+)-(\d+)/.exec(req.headers.range!)!;
      const part = payload.subarray(Number(start), Number(end) + 1);
      res
        .writeHead(206, {
          'Content-Range': `bytes ${start}-${end}/${payload.byteLength}`,
          'Content-Length': String(part.byteLength)
        })
        .end(part);
    });

    const answer = await requestBytes(
      serverUrl('files/data/x.nc', settings()),
      { headers: { Range: 'bytes=100-199' } },
      settings()
    );

    expect(answer.status).toBe(206);
    expect(answer.headers.get('Content-Range')).toBe('bytes 100-199/50000');
    expect(answer.data).toEqual(payload.subarray(100, 200));
    expect(seen.at(-1)!.headers.authorization).toBe('token secret-token');
  });

  it('gives the ApiError of an error answer, body included', async () => {
    routes.set(
      '/base/espri-vre/api/table-missing',
      json(404, { error: 'not-found', detail: 'No such table.' })
    );

    const error = (await requestBytes(
      apiUrl('table-missing', settings()),
      {},
      settings()
    ).catch((e: unknown) => e)) as ApiError;

    expect(error).toBeInstanceOf(ApiError);
    expect(error.error).toBe('not-found');
    expect(error.body).toEqual({
      error: 'not-found',
      detail: 'No such table.'
    });
  });

  it('rejects with an AbortError when aborted while the body arrives', async () => {
    let sent!: () => void;
    const firstPart = new Promise<void>(resolve => (sent = resolve));
    routes.set('/base/espri-vre/api/endless', (_req, res) => {
      res.writeHead(200, { 'Content-Length': '1000000' });
      res.write(payload.subarray(0, 1000), () => sent());
    });
    const controller = new AbortController();

    const pending = requestBytes(
      apiUrl('endless', settings()),
      { signal: controller.signal },
      settings(),
      () => controller.abort()
    ).catch((e: unknown) => e);
    await firstPart;
    const error = await pending;

    expect(isAbortError(error)).toBe(true);
  });
});

describe('requestText, requestJSON and requestServer', () => {
  it('give the text or JSON with the headers of the answer', async () => {
    routes.set('/base/espri-vre/api/references', (_req, res) => {
      res
        .writeHead(200, {
          'Content-Type': 'application/json',
          'X-Files-Url': 'files/data/x.nc'
        })
        .end(JSON.stringify({ refs: { '.zgroup': '{}' } }));
    });
    const url = apiUrl('references', settings());

    const text = await requestText(url, {}, settings());
    const decoded = await requestJSON<{ refs: object }>(url, {}, settings());

    expect(JSON.parse(text.data)).toEqual({ refs: { '.zgroup': '{}' } });
    expect(decoded.data).toEqual({ refs: { '.zgroup': '{}' } });
    expect(decoded.headers.get('X-Files-Url')).toBe('files/data/x.nc');
  });

  it('requestServer gives the unread answer, its body a stream', async () => {
    routes.set('/base/dask/clusters/abc', (req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end(req.method);
    });

    const response = await requestServer(
      serverUrl('dask/clusters/abc', settings()),
      { method: 'PATCH', body: '{"workers": 2}' },
      settings()
    );

    expect(response.bodyUsed).toBe(false);
    const reader = response.body!.getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toBe('PATCH');
  });
});

describe('serverFetch', () => {
  it("sends the server's requests with the token and their Range, without a cache-busting query", async () => {
    routes.set('/base/espri-vre/api/data/files/x.zarr/.zarray', (req, res) => {
      res
        .writeHead(206, { 'Content-Range': 'bytes 0-1/2' })
        .end(req.headers.range);
    });

    const response = await serverFetch(settings())(
      new Request(`${baseUrl}espri-vre/api/data/files/x.zarr/.zarray`, {
        headers: { Range: 'bytes=0-1' }
      })
    );

    expect(response.status).toBe(206);
    expect(await response.text()).toBe('bytes=0-1');
    const request = seen.at(-1)!;
    expect(request.url).toBe('/base/espri-vre/api/data/files/x.zarr/.zarray');
    expect(request.headers.authorization).toBe('token secret-token');
  });

  it('sends no token to a host other than the server', async () => {
    const other = http.createServer((req, res) => {
      res.writeHead(200).end(req.headers.authorization ?? 'none');
    });
    await new Promise<void>(resolve => other.listen(0, '127.0.0.1', resolve));
    const port = (other.address() as AddressInfo).port;

    try {
      const response = await serverFetch(settings())(
        new Request(`http://127.0.0.1:${port}/bucket/x.zarr/.zarray`)
      );
      expect(await response.text()).toBe('none');
    } finally {
      other.closeAllConnections();
      await new Promise(resolve => other.close(resolve));
    }
  });
});
