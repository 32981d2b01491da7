// @vitest-environment jsdom
import { ApiError } from '@espri-vre/core';
import { ServerConnection } from '@jupyterlab/services';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authenticatedFetch,
  fetchReferences,
  fetchTable
} from '../src/connection';

/**
 * The preview's requests against a real HTTP server answering as the suite's
 * data/references, data/table and data/files routes do.
 */
let server: http.Server;
let baseUrl: string;
const seen: { url: string; headers: http.IncomingHttpHeaders }[] = [];
const REFS = { version: 1, refs: { '.zgroup': '{"zarr_format": 2}' } };
const TABLE = Uint8Array.from({ length: 3000 }, (_, i) => i % 256);

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    const { pathname, searchParams } = new URL(req.url ?? '/', 'http://x');
    if (pathname === '/base/espri-vre/api/data/references') {
      if (searchParams.get('path') === 'gone.nc') {
        res
          .writeHead(404, { 'Content-Type': 'application/json' })
          .end(
            JSON.stringify({ error: 'not-found', detail: 'gone.nc is gone.' })
          );
        return;
      }
      res
        .writeHead(200, {
          'Content-Type': 'application/json',
          'X-Files-Url': 'files/data/x.nc'
        })
        .end(JSON.stringify(REFS));
    } else if (pathname === '/base/espri-vre/api/data/table') {
      res
        .writeHead(200, {
          'Content-Type': 'application/vnd.apache.arrow.stream',
          'X-Total-Rows': '250000'
        })
        .end(TABLE);
    } else if (pathname === '/base/espri-vre/api/data/files/data/x.nc') {
      res
        .writeHead(206, { 'Content-Range': 'bytes 10-19/3000' })
        .end(TABLE.subarray(10, 20));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/base/`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise(resolve => server.close(resolve));
});

function settings(): ServerConnection.ISettings {
  return ServerConnection.makeSettings({ baseUrl, token: 'preview-token' });
}

describe('fetchReferences', () => {
  it('gives the references and the data/files URL their chunks are read from', async () => {
    const { spec, target } = await fetchReferences('data/x.nc', settings());

    expect(spec).toEqual(REFS);
    expect(target).toBe(`${baseUrl}espri-vre/api/data/files/data/x.nc`);
    expect(seen.at(-1)!.url).toMatch(
      /^\/base\/espri-vre\/api\/data\/references\?path=data%2Fx\.nc/
    );
  });

  it("rejects with the server's error code and detail", async () => {
    const error = (await fetchReferences('gone.nc', settings()).catch(
      (e: unknown) => e
    )) as ApiError;

    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(404);
    expect(error.error).toBe('not-found');
    expect(error.detail).toBe('gone.nc is gone.');
  });
});

describe('fetchTable', () => {
  it('gives the Arrow bytes and the total row count', async () => {
    const { bytes, total } = await fetchTable('t.parquet', 100, 50, settings());

    expect(bytes).toEqual(TABLE);
    expect(total).toBe(250000);
    const query = new URL(seen.at(-1)!.url, 'http://x').searchParams;
    expect([...query.entries()].slice(0, 3)).toEqual([
      ['path', 't.parquet'],
      ['offset', '100'],
      ['limit', '50']
    ]);
  });
});

describe('authenticatedFetch', () => {
  it("sends zarrita's Range requests with the token, to the chunk's own URL", async () => {
    const response = await authenticatedFetch(settings())(
      new Request(`${baseUrl}espri-vre/api/data/files/data/x.nc`, {
        headers: { Range: 'bytes=10-19' }
      })
    );

    expect(response.status).toBe(206);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(
      TABLE.subarray(10, 20)
    );
    const request = seen.at(-1)!;
    expect(request.url).toBe('/base/espri-vre/api/data/files/data/x.nc');
    expect(request.headers.range).toBe('bytes=10-19');
    expect(request.headers.authorization).toBe('token preview-token');
  });
});
