import { describe, expect, it } from 'vitest';
import { coordinateLabels } from '../src/cf';
import {
  type CommBuffer,
  type IKernelChannel,
  KernelStore
} from '../src/kernel-store';
import {
  openArray,
  openZarrStore,
  readDecoded,
  readSlice
} from '../src/reader';
import { runPython } from './python';

/**
 * The store behind `espri_vre.preview(obj)`: requests and answers on a fake comm
 * (the transport), then the reader on the bytes and metadata that the kernel's
 * VirtualZarr really serves, against xarray's values and dates.
 */

type Handler = (
  content: Record<string, unknown>,
  buffers: CommBuffer[]
) => void;

class FakeComm implements IKernelChannel {
  sent: Record<string, unknown>[] = [];
  handlers = new Set<Handler>();
  /** Answers each request at once when set. */
  answer:
    | ((request: Record<string, unknown>) => {
        content: Record<string, unknown>;
        buffers?: CommBuffer[];
      })
    | null = null;

  send(content: Record<string, unknown>): void {
    this.sent.push(content);
    const answer = this.answer;
    if (answer) {
      queueMicrotask(() => {
        const { content: reply, buffers = [] } = answer(content);
        this.reply(reply, buffers);
      });
    }
  }

  listen(handler: Handler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  reply(content: Record<string, unknown>, buffers: CommBuffer[] = []): void {
    for (const handler of this.handlers) {
      handler(content, buffers);
    }
  }
}

const ZMETADATA = JSON.stringify({
  zarr_consolidated_format: 1,
  metadata: {
    '.zgroup': { zarr_format: 2 },
    '.zattrs': {},
    'v/.zarray': {
      zarr_format: 2,
      shape: [2],
      chunks: [2],
      dtype: '<f4',
      compressor: null,
      fill_value: 'NaN',
      order: 'C',
      filters: null
    },
    'v/.zattrs': { _ARRAY_DIMENSIONS: ['x'] }
  }
});

describe('KernelStore', () => {
  it('answers metadata keys from the widget state without asking the kernel', async () => {
    const comm = new FakeComm();
    const store = new KernelStore(comm, { zmetadata: ZMETADATA });
    const meta = await store.get('/.zmetadata');
    expect(JSON.parse(new TextDecoder().decode(meta))).toEqual(
      JSON.parse(ZMETADATA)
    );
    const zarray = await store.get('/v/.zarray');
    expect(JSON.parse(new TextDecoder().decode(zarray)).dtype).toBe('<f4');
    expect(await store.get('/zarr.json')).toBeUndefined();
    expect(await store.get('/w/.zarray')).toBeUndefined();
    expect(comm.sent).toEqual([]);
  });

  it('sends a get per chunk and resolves with the buffer of its answer', async () => {
    const comm = new FakeComm();
    const store = new KernelStore(comm, { zmetadata: ZMETADATA });
    const pending = store.get('/v/0');
    expect(store.transfer.pending).toBe(1);
    const [request] = comm.sent;
    expect(request).toMatchObject({ protocol: 1, type: 'get', key: 'v/0' });
    const bytes = new Float32Array([1.5, -2]).buffer;
    // An answer for another request (another view's store) is not this one's.
    comm.reply({ type: 'answer', id: 'other-1', status: 'ok', key: 'v/0' }, [
      new ArrayBuffer(3)
    ]);
    comm.reply({ type: 'answer', id: request.id, status: 'ok', key: 'v/0' }, [
      new DataView(bytes)
    ]);
    const got = await pending;
    expect(Array.from(new Float32Array(got!.buffer))).toEqual([1.5, -2]);
    expect(store.transfer).toEqual({ requests: 1, bytes: 8, pending: 0 });
  });

  it('resolves a missing key to undefined and rejects with the kernel message on an error', async () => {
    const comm = new FakeComm();
    comm.answer = request =>
      request.key === 'v/0'
        ? { content: { type: 'answer', id: request.id, status: 'missing' } }
        : {
            content: {
              type: 'answer',
              id: request.id,
              status: 'error',
              message:
                'Chunk 9 of v is outside its grid: x has 1 chunk(s) of 2.'
            }
          };
    const store = new KernelStore(comm, { zmetadata: ZMETADATA });
    expect(await store.get('/v/0')).toBeUndefined();
    await expect(store.get('/v/9')).rejects.toThrow('outside its grid');
  });

  it('gives up after its timeout with a message that says why', async () => {
    const comm = new FakeComm();
    const store = new KernelStore(comm, { zmetadata: ZMETADATA, timeout: 20 });
    await expect(store.get('/v/0')).rejects.toThrow(
      /did not send v\/0 within 0 s: is it busy running a cell/
    );
    expect(store.transfer.pending).toBe(0);
  });

  it('rejects an aborted read at once and ignores its late answer', async () => {
    const comm = new FakeComm();
    const store = new KernelStore(comm, { zmetadata: ZMETADATA });
    const controller = new AbortController();
    const pending = store.get('/v/0', { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toThrow();
    comm.reply({ type: 'answer', id: comm.sent[0].id, status: 'ok' }, [
      new ArrayBuffer(8)
    ]);
    expect(store.transfer).toEqual({ requests: 1, bytes: 0, pending: 0 });
    await expect(
      store.get('/v/0', { signal: controller.signal })
    ).rejects.toThrow();
    expect(comm.sent).toHaveLength(1);
  });

  it('rejects what is pending, and later reads, once the comm is gone', async () => {
    const comm = new FakeComm();
    const store = new KernelStore(comm, { zmetadata: ZMETADATA });
    const pending = store.get('/v/0');
    store.dispose();
    await expect(pending).rejects.toThrow('run the cell again');
    await expect(store.get('/v/0')).rejects.toThrow('run the cell again');
    expect(comm.handlers.size).toBe(0);
  });
});

interface IServed {
  zmetadata: string;
  keys: Record<string, string | null>;
  errors: Record<string, string>;
  slice5: number[];
  labels: string[];
}

describe('The reader on what VirtualZarr serves', () => {
  const served = runPython<IServed>(`
import base64, json, numpy as np, xarray as xr
from espri_vre.preview_widget import VirtualZarr, ChunkError
times = xr.date_range("2001-01-01", periods=24, freq="MS", calendar="360_day", use_cftime=True).shift(14, "D")
rng = np.random.default_rng(1)
tas = rng.normal(280, 10, (24, 6, 8)).astype("float32")
tas[3, 2, 1] = np.nan
ds = xr.Dataset(
    {"tas": (("time", "lat", "lon"), tas, {"units": "K", "standard_name": "air_temperature"}),
     "station": (("n",), np.array(["Paris", "Lyon"]))},
    coords={"time": times, "lat": np.linspace(-75, 75, 6), "lon": np.arange(8) * 45.0},
)
anomaly = ds.tas - ds.tas.mean("time")
store = VirtualZarr(anomaly.to_dataset().assign(station=ds.station), chunks={"time": 4})
keys, errors = {}, {}
for name, info in store.variables().items():
    shape, chunks = info["shape"], info["chunks"]
    grid = [-(-n // c) for n, c in zip(shape, chunks)] or []
    for index in np.ndindex(*grid):
        key = name + "/" + (".".join(map(str, index)) or "0")
        try:
            keys[key] = base64.b64encode(store.get(key)).decode()
        except ChunkError as e:
            errors[key] = str(e)
print(json.dumps({
    "zmetadata": store.metadata_json, "keys": keys, "errors": errors,
    "slice5": [None if np.isnan(v) else float(v) for v in anomaly.isel(time=5).values.ravel()],
    "labels": [d.strftime("%Y-%m-%d %H:%M:%S") for d in ds.time.values],
}))
`);

  function kernelComm(): FakeComm {
    const comm = new FakeComm();
    comm.answer = request => {
      const key = String(request.key);
      if (key in served.errors) {
        return {
          content: {
            type: 'answer',
            id: request.id,
            status: 'error',
            message: served.errors[key]
          }
        };
      }
      const data = served.keys[key];
      if (data === undefined) {
        return {
          content: { type: 'answer', id: request.id, status: 'missing' }
        };
      }
      return {
        content: { type: 'answer', id: request.id, status: 'ok' },
        buffers: [Buffer.from(data!, 'base64')]
      };
    };
    return comm;
  }

  it('maps a slice and labels the 360_day dates as xarray does', async () => {
    const comm = kernelComm();
    const store = new KernelStore(comm, { zmetadata: served.zmetadata });
    const dataset = await openZarrStore(
      (transfer, onChange) => store.track(transfer, onChange),
      'kernel'
    );
    expect(dataset.variables.map(v => v.name)).toEqual([
      'lat',
      'lon',
      'station',
      'tas',
      'time'
    ]);
    const tas = dataset.variables.find(v => v.name === 'tas')!;
    expect(tas.dims).toEqual(['time', 'lat', 'lon']);
    expect(tas.chunks).toEqual([4, 6, 8]);
    const slice = await readSlice(dataset, tas, [5, null, null]);
    expect(slice.rows).toBe(6);
    expect(slice.cols).toBe(8);
    served.slice5.forEach((v, i) => {
      if (v === null) {
        expect(slice.values[i]).toBeNaN();
      } else {
        expect(slice.values[i]).toBeCloseTo(v, 4);
      }
    });
    // One chunk (time 4..7) came from the kernel for the map; the cache keeps it.
    expect(comm.sent.map(m => m.key)).toEqual(['tas/1.0.0']);
    await readSlice(dataset, tas, [6, null, null]);
    expect(comm.sent).toHaveLength(1);
    expect(dataset.readChunks.get('tas')).toEqual(new Set(['1,0,0']));

    const time = dataset.variables.find(v => v.name === 'time')!;
    const { values } = await readDecoded(dataset, time, null);
    expect(coordinateLabels(values, time.attrs)).toEqual(served.labels);
    expect(comm.sent.map(m => m.key)).toEqual(['tas/1.0.0', 'time/0']);
    expect(dataset.transfer.requests).toBe(2);
  });

  it('lists a text variable and says why its values are not served', async () => {
    const store = new KernelStore(kernelComm(), {
      zmetadata: served.zmetadata
    });
    const dataset = await openZarrStore(
      (transfer, onChange) => store.track(transfer, onChange),
      'kernel'
    );
    const station = dataset.variables.find(v => v.name === 'station')!;
    expect(station.dtype).toMatch(/U5|string/);
    const arr = await openArray(dataset, station);
    const { get } = await import('zarrita');
    await expect(get(arr, null)).rejects.toThrow(
      'station holds text (strings), which the preview does not serve'
    );
  });
});
