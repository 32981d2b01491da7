import type {
  DaskClusterOption,
  DaskPreset,
  DaskRunning
} from '@espri-vre/core';
import { ApiError } from '@espri-vre/core';
import { ServerConnection } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DaskService,
  jobCounts,
  managerError,
  presetSummary,
  startRequest
} from '../src/model';

const trans = nullTranslator.load('espri_vre');

const GPU: DaskPreset = {
  id: 'gpu',
  title: '2 GPU workers',
  workers: 2,
  cores: 4,
  memory: '16G',
  walltime: '02:00:00',
  gpus: 1,
  processes: 1,
  partition: 'gpu'
};
const ADAPTIVE: DaskPreset = {
  id: 'adaptive',
  title: 'Adaptive',
  workers: 0,
  cores: 1,
  memory: '2G',
  walltime: '01:00:00',
  gpus: 0,
  processes: 1,
  adapt: { minimum: 0, maximum: 6 }
};
const CLUSTER: DaskClusterOption = {
  id: 'slurm-gpu',
  title: 'GPU cluster',
  kind: 'slurm',
  max_workers: 6,
  presets: [GPU, ADAPTIVE],
  problem: null
};

function running(jobs: [string, string][]): DaskRunning {
  return {
    id: 'a-b-c-d-e',
    name: 'slurm-gpu-gpu-1',
    scheduler_address: 'tcp://127.0.0.1:8786',
    dashboard_link: 'http://127.0.0.1:8787/status',
    workers: 1,
    cluster: 'slurm-gpu',
    preset: 'gpu',
    kind: 'SLURMCluster',
    jobs: jobs.map(([id, state]) => ({ id, state })),
    problem: null,
    code: 'from dask.distributed import Client\nclient = Client("tcp://127.0.0.1:8786")\n'
  };
}

describe('startRequest', () => {
  it('sends the preset alone when the workers are left empty', () => {
    expect(startRequest(CLUSTER, GPU, '  ', trans)).toEqual({
      request: { cluster: 'slurm-gpu', preset: 'gpu' }
    });
  });
  it('sends the workers asked for, as a number', () => {
    expect(startRequest(CLUSTER, GPU, '6', trans)).toEqual({
      request: { cluster: 'slurm-gpu', preset: 'gpu', workers: 6 }
    });
  });
  it('refuses more workers than the cluster allows, naming the cap', () => {
    expect(startRequest(CLUSTER, GPU, '7', trans)).toEqual({
      error: 'At most 6 workers can be started on GPU cluster.'
    });
  });
  it('refuses what is not a whole number', () => {
    for (const text of ['2.5', '-1', 'two', '1e3', '3; rm']) {
      expect(startRequest(CLUSTER, GPU, text, trans)).toEqual({
        error: 'Workers must be a whole number.'
      });
    }
  });
  it("says the cluster's problem when it has no usable preset", () => {
    const broken = {
      ...CLUSTER,
      presets: [],
      problem: 'dask.interface is not a name'
    };
    expect(startRequest(broken, GPU, '', trans)).toEqual({
      error: 'dask.interface is not a name'
    });
  });
});

describe('presetSummary', () => {
  it('tells the workers, one job and the partition', () => {
    expect(presetSummary(GPU, trans)).toBe(
      '2 workers (4 cores, 16G, 1 GPU, 02:00:00) on gpu'
    );
  });
  it('tells the range of an adaptive preset', () => {
    expect(presetSummary(ADAPTIVE, trans)).toBe(
      '0 to 6 workers (1 core, 2G, 01:00:00)'
    );
  });
});

describe('jobCounts', () => {
  it('counts the worker jobs by state, live states first', () => {
    const r = running([
      ['11', 'ENDED'],
      ['12', 'PENDING'],
      ['13', 'RUNNING'],
      ['14', 'RUNNING'],
      ['15', 'CANCELLED']
    ]);
    expect(jobCounts(r)).toEqual([
      ['RUNNING', 2],
      ['PENDING', 1],
      ['CANCELLED', 1],
      ['ENDED', 1]
    ]);
  });
});

describe('managerError', () => {
  it("keeps tornado's sentence from an HTML error page or a JSON message", () => {
    expect(
      managerError(
        500,
        '<html><title>500: Internal Server Error</title><body>x</body></html>'
      )
    ).toBe('500: Internal Server Error');
    expect(
      managerError(
        403,
        '{"message": "A Dask cluster with ID x already exists!"}'
      )
    ).toBe('A Dask cluster with ID x already exists!');
    expect(managerError(502, '')).toBe('dask-labextension answered 502');
  });
});

describe('DaskService against a real HTTP server', () => {
  let server: http.Server;
  let baseUrl: string;
  const seen: { method: string; url: string; body: string }[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', chunk => (body += chunk));
      req.on('end', () => {
        // ServerConnection adds a cache-busting query to every request.
        const url = (req.url ?? '').split('?')[0];
        seen.push({ method: req.method ?? '', url, body });
        if (url.endsWith('/dask/clusters/gone-1')) {
          res
            .writeHead(500, { 'Content-Type': 'text/html' })
            .end('<html><title>500: Internal Server Error</title></html>');
        } else if (url.startsWith('/base/dask/clusters/')) {
          res.writeHead(req.method === 'DELETE' ? 204 : 200).end();
        } else if (url === '/base/espri-vre/api/dask/clusters') {
          res.writeHead(400, { 'Content-Type': 'application/json' }).end(
            JSON.stringify({
              error: 'invalid-dask',
              detail:
                'The Dask cluster is refused: 3 workers is more than the 2 allowed.'
            })
          );
        } else {
          res.writeHead(404).end();
        }
      });
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/base/`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise(resolve => server.close(resolve));
  });

  function service(): DaskService {
    return new DaskService(
      ServerConnection.makeSettings({ baseUrl, token: 't' })
    );
  }

  it("scales and stops through dask-labextension's routes", async () => {
    seen.length = 0;
    await service().scale('a-b-c-d-e', 3);
    await service().adapt('a-b-c-d-e', 0, 4);
    await service().stop('a-b-c-d-e');
    expect(seen).toEqual([
      {
        method: 'PATCH',
        url: '/base/dask/clusters/a-b-c-d-e',
        body: '{"workers":3}'
      },
      {
        method: 'PATCH',
        url: '/base/dask/clusters/a-b-c-d-e',
        body: '{"adapt":{"minimum":0,"maximum":4}}'
      },
      { method: 'DELETE', url: '/base/dask/clusters/a-b-c-d-e', body: '' }
    ]);
  });

  it("turns the manager's failure into an ApiError with its sentence", async () => {
    const error = await service()
      .stop('gone-1')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).detail).toBe('500: Internal Server Error');
  });

  it('refuses a cluster id that could leave the route', async () => {
    seen.length = 0;
    await expect(service().stop('../../api/shutdown')).rejects.toThrow(
      'not a Dask cluster id'
    );
    expect(seen).toEqual([]);
  });

  it("passes the server's refusal of a start on", async () => {
    const error = await service()
      .start({ cluster: 'slurm', workers: 3 })
      .catch((e: unknown) => e);
    expect((error as ApiError).detail).toContain(
      '3 workers is more than the 2 allowed'
    );
  });

  it('builds the proxied dashboard URL of a cluster', () => {
    expect(service().dashboardUrl(running([]), 'individual-task-stream')).toBe(
      `${baseUrl}dask/dashboard/a-b-c-d-e/individual-task-stream`
    );
  });
});
