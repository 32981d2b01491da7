/**
 * The kernel-to-browser messages of the Python `Globe` widget (protocol 1,
 * docs/globe.md): JSON content plus Arrow IPC buffers, decoded into the inputs
 * of the GlobeWidget's layer methods. Pure, so that it is tested in Node.
 */
import { tableFromIPC } from 'apache-arrow';
import { COLORMAPS, type ColormapName } from './colormap';
import type {
  IFieldInput,
  IMeshInput,
  IPointsInput,
  IRectangle,
  ITrajectoryInput
} from './layer-data';

export const PROTOCOL_VERSION = 1;

/** A buffer as @jupyter-widgets/base hands it over. */
export type WidgetBuffer = ArrayBuffer | ArrayBufferView;

interface IBase {
  protocol: number;
  layer_id: string;
  title: string;
}

interface IColored extends IBase {
  colormap: ColormapName;
  min: number | null;
  max: number | null;
}

export type LayerMessage =
  | (IColored & {
      type: 'add-points';
      pixel_size: number;
      batch: number;
      batches: number;
      count: number;
      data: IPointsInput;
    })
  | (IColored & { type: 'add-field'; data: IFieldInput })
  | (IColored & { type: 'add-mesh'; data: IMeshInput })
  | (IBase & { type: 'add-trajectory'; color: string; data: ITrajectoryInput })
  | (IBase & { type: 'add-footprints'; color: string; data: IRectangle[] });

function bytes(buffer: WidgetBuffer | undefined, what: string): Uint8Array {
  if (buffer === undefined) {
    throw new Error(`${what}: the message has no data buffer.`);
  }
  return buffer instanceof ArrayBuffer
    ? new Uint8Array(buffer)
    : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** The named columns of one Arrow IPC buffer, as numbers. */
export function decodeColumns(
  buffer: WidgetBuffer | undefined,
  names: string[],
  what: string
): Record<string, Float64Array | Float32Array> {
  const table = tableFromIPC(bytes(buffer, what));
  const out: Record<string, Float64Array | Float32Array> = {};
  for (const name of names) {
    const column = table.getChild(name);
    if (!column) {
      throw new Error(
        `${what}: the data has no column "${name}" (it has ${table.schema.fields.map(f => f.name).join(', ')}).`
      );
    }
    const array = column.toArray() as ArrayLike<number | bigint>;
    if (array instanceof Float64Array || array instanceof Float32Array) {
      out[name] = array;
    } else {
      // Integers (times in milliseconds come as int64): to plain numbers.
      out[name] = Float64Array.from(array as ArrayLike<number>, Number);
    }
  }
  return out;
}

function colored(content: Record<string, unknown>, what: string): IColored {
  const colormap = String(content.colormap ?? 'viridis') as ColormapName;
  if (!COLORMAPS.includes(colormap)) {
    throw new Error(`${what}: unknown colour map "${colormap}".`);
  }
  const limit = (v: unknown) => (typeof v === 'number' ? v : null);
  return {
    ...base(content),
    colormap,
    min: limit(content.min),
    max: limit(content.max)
  };
}

function base(content: Record<string, unknown>): IBase {
  return {
    protocol: Number(content.protocol),
    layer_id: String(content.layer_id),
    title: String(content.title ?? '')
  };
}

/** A layer message's content and buffers as the GlobeWidget's inputs. */
export function decodeLayerMessage(
  content: Record<string, unknown>,
  buffers: WidgetBuffer[]
): LayerMessage {
  if (content.protocol !== PROTOCOL_VERSION) {
    throw new Error(
      `The globe speaks protocol ${PROTOCOL_VERSION}, the kernel sent ${String(content.protocol)}: update espri-vre in the kernel or the server.`
    );
  }
  switch (content.type) {
    case 'add-points': {
      const c = decodeColumns(buffers[0], ['lon', 'lat', 'value'], 'Points');
      return {
        ...colored(content, 'Points'),
        type: 'add-points',
        pixel_size: Number(content.pixel_size ?? 6),
        batch: Number(content.batch ?? 0),
        batches: Number(content.batches ?? 1),
        count: Number(content.count ?? c.lon.length),
        data: { lon: c.lon, lat: c.lat, values: c.value }
      };
    }
    case 'add-field': {
      const lon = decodeColumns(buffers[0], ['lon'], 'Field').lon;
      const lat = decodeColumns(buffers[1], ['lat'], 'Field').lat;
      const values = decodeColumns(buffers[2], ['value'], 'Field').value;
      return {
        ...colored(content, 'Field'),
        type: 'add-field',
        data: { lon, lat, values }
      };
    }
    case 'add-mesh': {
      const c = decodeColumns(buffers[0], ['lon', 'lat', 'value'], 'Mesh');
      const shape = content.shape as [number, number];
      return {
        ...colored(content, 'Mesh'),
        type: 'add-mesh',
        data: { lon: c.lon, lat: c.lat, values: c.value, shape }
      };
    }
    case 'add-trajectory': {
      const table = tableFromIPC(bytes(buffers[0], 'Trajectory'));
      const names = ['lon', 'lat', 'time'];
      if (table.getChild('height')) {
        names.push('height');
      }
      const c = decodeColumns(buffers[0], names, 'Trajectory');
      return {
        ...base(content),
        type: 'add-trajectory',
        color: String(content.color ?? '#ff7f0e'),
        data: {
          lon: c.lon,
          lat: c.lat,
          time: c.time,
          height: c.height
        }
      };
    }
    case 'add-footprints': {
      const c = decodeColumns(
        buffers[0],
        ['west', 'south', 'east', 'north'],
        'Footprints'
      );
      return {
        ...base(content),
        type: 'add-footprints',
        color: String(content.color ?? '#ffd700'),
        data: Array.from(c.west, (west, i) => ({
          west,
          south: c.south[i],
          east: c.east[i],
          north: c.north[i]
        }))
      };
    }
    default:
      throw new Error(
        `The globe does not know the message "${String(content.type)}".`
      );
  }
}
