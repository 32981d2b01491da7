import { ServerConnection } from '@jupyterlab/services';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiError,
  isAbortError,
  NetworkError,
  requestAPI,
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
