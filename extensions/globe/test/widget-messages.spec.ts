import { readFileSync } from 'fs';
import * as path from 'path';
import { describe, expect, it } from 'vitest';
import { prepareField, prepareMesh } from '../src/layer-data';
import { decodeLayerMessage } from '../src/widget-messages';

/** A message as the kernel sent it (fixtures written by kernels-bridge/tests/test_globe_fixtures.py). */
function fixture(name: string): {
  content: Record<string, unknown>;
  buffers: Uint8Array[];
} {
  const dir = path.join(__dirname, 'fixtures');
  const content = JSON.parse(
    readFileSync(path.join(dir, `${name}.json`), 'utf-8')
  );
  const buffers: Uint8Array[] = [];
  for (let i = 0; ; i++) {
    try {
      buffers.push(
        new Uint8Array(readFileSync(path.join(dir, `${name}.${i}.arrow`)))
      );
    } catch {
      break;
    }
  }
  return { content, buffers };
}

describe('decodeLayerMessage', () => {
  it('reads the points the kernel sent, NaN kept', () => {
    const { content, buffers } = fixture('add-points');
    const m = decodeLayerMessage(content, buffers);
    expect(m.type).toBe('add-points');
    if (m.type !== 'add-points') {
      return;
    }
    expect(m.layer_id).toBe('p1');
    expect(Array.from(m.data.lon)).toEqual([350, 10, -20.5]);
    expect(Array.from(m.data.lat)).toEqual([0, 45, -89.9]);
    expect(m.data.values[0]).toBe(1.5);
    expect(Number.isNaN(m.data.values[1])).toBe(true);
    expect([m.min, m.max, m.batch, m.batches]).toEqual([-3, 1.5, 0, 1]);
  });

  it('reads a regional field across the antimeridian into two images', () => {
    const { content, buffers } = fixture('add-field');
    const m = decodeLayerMessage(content, buffers);
    expect(m.type).toBe('add-field');
    if (m.type !== 'add-field') {
      return;
    }
    expect(Array.from(m.data.lon)).toEqual([170, 175, 180, 185]);
    const field = prepareField(m.data, { min: 1, max: 8 });
    expect(field.tiles.map(t => t.rectangle.west)).toEqual([167.5, -180]);
    // The NaN cell (lat 10, lon 180) is transparent.
    expect(field.tiles[1].rgba[3]).toBe(0);
  });

  it('reads a curvilinear mesh and leaves its NaN cell out', () => {
    const { content, buffers } = fixture('add-mesh');
    const m = decodeLayerMessage(content, buffers);
    expect(m.type).toBe('add-mesh');
    if (m.type !== 'add-mesh') {
      return;
    }
    expect(m.data.shape).toEqual([2, 3]);
    const mesh = prepareMesh(m.data);
    expect(mesh.count).toBe(5);
    expect(Array.from(mesh.cells)).toEqual([0, 1, 2, 3, 5]);
  });

  it('reads trajectory times as epoch milliseconds', () => {
    const { content, buffers } = fixture('add-trajectory');
    const m = decodeLayerMessage(content, buffers);
    if (m.type !== 'add-trajectory') {
      throw new Error(m.type);
    }
    expect(Array.from(m.data.time as ArrayLike<number>)).toEqual([
      946684800000, 946688400000
    ]);
    expect(Array.from(m.data.height!)).toEqual([0, 1000]);
  });

  it('reads footprints as boxes', () => {
    const { content, buffers } = fixture('add-footprints');
    const m = decodeLayerMessage(content, buffers);
    expect(m.type === 'add-footprints' && m.data).toEqual([
      { west: 170, south: -10, east: -170, north: 10 }
    ]);
  });

  it('refuses another protocol version and unknown messages', () => {
    const { content, buffers } = fixture('add-points');
    expect(() =>
      decodeLayerMessage({ ...content, protocol: 2 }, buffers)
    ).toThrow(/speaks protocol 1, the kernel sent 2/);
    expect(() =>
      decodeLayerMessage({ ...content, type: 'add-teapot' }, buffers)
    ).toThrow(/does not know the message "add-teapot"/);
    expect(() => decodeLayerMessage(content, [])).toThrow(
      /Points: the message has no data buffer/
    );
  });
});
