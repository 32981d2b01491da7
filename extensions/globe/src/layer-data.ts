/**
 * Pure data preparation for the globe's layers: validation, longitude
 * normalisation, colouring and the field raster. No Cesium here, so that every
 * rule is tested in Node.
 */
import { type ColormapName, colorFor, finiteRange } from './colormap';

/** A geographic box in degrees; `west > east` crosses the antimeridian. */
export interface IRectangle {
  west: number;
  south: number;
  east: number;
  north: number;
}

export interface IColorOptions {
  colormap?: ColormapName;
  /** Colour limits; the finite range of the values when omitted. */
  min?: number;
  max?: number;
}

/** Longitude in [-180, 180). */
export function normalizeLongitude(lon: number): number {
  const x = (((lon + 180) % 360) + 360) % 360;
  return x - 180;
}

function checkLengths(
  what: string,
  arrays: Record<string, ArrayLike<unknown>>
): number {
  const entries = Object.entries(arrays);
  const n = entries[0][1].length;
  for (const [, array] of entries) {
    if (array.length !== n) {
      const lengths = entries.map(([k, a]) => `${k}: ${a.length}`).join(', ');
      throw new Error(`${what}: the arrays differ in length (${lengths}).`);
    }
  }
  if (n === 0) {
    throw new Error(`${what}: the arrays are empty.`);
  }
  return n;
}

function checkLatitudes(what: string, lat: ArrayLike<number>): void {
  for (let i = 0; i < lat.length; i++) {
    const v = lat[i];
    if (!(v >= -90 && v <= 90)) {
      throw new Error(
        `${what}: latitude ${v} at index ${i} is outside [-90, 90].`
      );
    }
  }
}

function checkLongitudes(what: string, lon: ArrayLike<number>): void {
  for (let i = 0; i < lon.length; i++) {
    if (!Number.isFinite(lon[i])) {
      throw new Error(
        `${what}: longitude ${lon[i]} at index ${i} is not finite.`
      );
    }
  }
}

function limits(
  values: ArrayLike<number>,
  options: IColorOptions
): [number, number] {
  const [lo, hi] = finiteRange(values);
  return [options.min ?? lo, options.max ?? hi];
}

export interface IPointsInput {
  lon: ArrayLike<number>;
  lat: ArrayLike<number>;
  values: ArrayLike<number>;
}

export interface IPreparedPoints {
  count: number;
  /** Longitude, latitude pairs in degrees, longitudes in [-180, 180). */
  lonLat: Float64Array;
  /** RGBA, 0..255; NaN values are transparent. */
  rgba: Uint8ClampedArray;
  min: number;
  max: number;
}

export function preparePoints(
  input: IPointsInput,
  options: IColorOptions = {}
): IPreparedPoints {
  const what = 'Points';
  const count = checkLengths(what, {
    lon: input.lon,
    lat: input.lat,
    values: input.values
  });
  checkLatitudes(what, input.lat);
  checkLongitudes(what, input.lon);
  const [min, max] = limits(input.values, options);
  const lonLat = new Float64Array(count * 2);
  const rgba = new Uint8ClampedArray(count * 4);
  for (let i = 0; i < count; i++) {
    lonLat[2 * i] = normalizeLongitude(input.lon[i]);
    lonLat[2 * i + 1] = input.lat[i];
    rgba.set(colorFor(input.values[i], min, max, options.colormap), 4 * i);
  }
  return { count, lonLat, rgba, min, max };
}

export interface ITrajectoryInput {
  lon: ArrayLike<number>;
  lat: ArrayLike<number>;
  /** Times as ISO 8601 strings or milliseconds since the epoch. */
  time: ArrayLike<string | number>;
  /** Heights above the ellipsoid in metres; 0 when omitted. */
  height?: ArrayLike<number>;
}

export interface IPreparedTrajectory {
  /** Samples sorted by time. */
  samples: { lon: number; lat: number; height: number; time: Date }[];
  start: Date;
  stop: Date;
}

export function prepareTrajectory(
  input: ITrajectoryInput
): IPreparedTrajectory {
  const what = 'Trajectory';
  const arrays: Record<string, ArrayLike<unknown>> = {
    lon: input.lon,
    lat: input.lat,
    time: input.time
  };
  if (input.height) {
    arrays.height = input.height;
  }
  const n = checkLengths(what, arrays);
  checkLatitudes(what, input.lat);
  checkLongitudes(what, input.lon);
  const samples = [];
  for (let i = 0; i < n; i++) {
    const time = new Date(input.time[i]);
    if (Number.isNaN(time.getTime())) {
      throw new Error(
        `${what}: time "${input.time[i]}" at index ${i} is not a date.`
      );
    }
    samples.push({
      lon: normalizeLongitude(input.lon[i]),
      lat: input.lat[i],
      height: input.height ? input.height[i] : 0,
      time
    });
  }
  samples.sort((a, b) => a.time.getTime() - b.time.getTime());
  return { samples, start: samples[0].time, stop: samples[n - 1].time };
}

export interface IFieldInput {
  /** Cell-centre longitudes, regularly spaced, in 0..360 or -180..180. */
  lon: ArrayLike<number>;
  /** Cell-centre latitudes, regularly spaced, ascending or descending. */
  lat: ArrayLike<number>;
  /** Row-major values, `values[j * lon.length + i]` at `(lat[j], lon[i])`. */
  values: ArrayLike<number>;
}

/** One image of a field: a grid crossing the antimeridian gives two. */
export interface IFieldTile {
  rectangle: IRectangle;
  width: number;
  height: number;
  /** RGBA rows, north first; NaN cells are transparent. */
  rgba: Uint8ClampedArray<ArrayBuffer>;
}

export interface IPreparedField {
  tiles: IFieldTile[];
  min: number;
  max: number;
}

function regularStep(what: string, name: string, axis: number[]): number {
  if (axis.length < 2) {
    return 0;
  }
  const step = axis[1] - axis[0];
  for (let i = 1; i < axis.length; i++) {
    const d = axis[i] - axis[i - 1];
    if (step === 0 || Math.abs(d - step) > Math.abs(step) * 1e-3) {
      throw new Error(
        `${what}: the ${name} axis is not regularly spaced (step ${step}, then ${d} at index ${i}).`
      );
    }
  }
  return step;
}

export function prepareField(
  input: IFieldInput,
  options: IColorOptions = {}
): IPreparedField {
  const what = 'Field';
  const nlon = input.lon.length;
  const nlat = input.lat.length;
  if (nlon === 0 || nlat === 0) {
    throw new Error(`${what}: the lon or lat axis is empty.`);
  }
  if (input.values.length !== nlon * nlat) {
    throw new Error(
      `${what}: ${input.values.length} values for a ${nlat} (lat) x ${nlon} (lon) grid, expected ${nlat * nlon}.`
    );
  }
  checkLatitudes(what, input.lat);
  checkLongitudes(what, input.lon);
  const lonAxis = Array.from(input.lon);
  const latAxis = Array.from(input.lat);
  const dlon = Math.abs(regularStep(what, 'lon', lonAxis)) || 1;
  // A single row or column takes the other axis' step.
  const dlat = Math.abs(regularStep(what, 'lat', latAxis)) || dlon;
  if (dlon * nlon > 360 + 1e-6) {
    throw new Error(`${what}: the lon axis spans more than 360 degrees.`);
  }
  const [min, max] = limits(input.values, options);

  // Columns in order of normalised longitude; a jump of more than one step
  // between neighbours is where a regional grid crosses the antimeridian.
  const columns = lonAxis
    .map((lon, index) => ({ lon: normalizeLongitude(lon), index }))
    .sort((a, b) => a.lon - b.lon);
  let cut = 0;
  for (let k = 1; k < columns.length; k++) {
    if (columns[k].lon - columns[k - 1].lon > dlon * 1.5) {
      cut = k;
    }
  }
  const eastPart = cut > 0 ? columns.slice(cut) : columns;
  const westPart = cut > 0 ? columns.slice(0, cut) : [];
  const rows = latAxis
    .map((lat, index) => ({ lat, index }))
    .sort((a, b) => b.lat - a.lat);
  const north = Math.min(90, rows[0].lat + dlat / 2);
  const south = Math.max(-90, rows[nlat - 1].lat - dlat / 2);

  const tiles: IFieldTile[] = [];
  const split = westPart.length > 0;
  for (const part of [eastPart, westPart]) {
    if (part.length === 0) {
      continue;
    }
    // The two images of a split grid meet at the antimeridian: a cell
    // straddling it is drawn in one of them, stretched by half a cell at most.
    const atWest = split && part === westPart;
    const atEast = split && part === eastPart;
    const width = part.length;
    const rgba = new Uint8ClampedArray(width * nlat * 4);
    rows.forEach((row, y) => {
      part.forEach((column, x) => {
        const value = input.values[row.index * nlon + column.index];
        rgba.set(
          colorFor(value, min, max, options.colormap),
          (y * width + x) * 4
        );
      });
    });
    tiles.push({
      rectangle: {
        west: atWest ? -180 : Math.max(-180, part[0].lon - dlon / 2),
        east: atEast ? 180 : Math.min(180, part[width - 1].lon + dlon / 2),
        south,
        north
      },
      width,
      height: nlat,
      rgba
    });
  }
  return { tiles, min, max };
}

export function validateFootprint(box: IRectangle): IRectangle {
  const { west, south, east, north } = box;
  for (const [name, v] of Object.entries({ west, south, east, north })) {
    if (!Number.isFinite(v)) {
      throw new Error(`Footprint: ${name} is ${v}, not a number.`);
    }
  }
  if (south < -90 || north > 90 || south > north) {
    throw new Error(
      `Footprint: south ${south} and north ${north} must satisfy -90 <= south <= north <= 90.`
    );
  }
  if (east - west >= 360) {
    return { west: -180, south, east: 180, north };
  }
  const e = normalizeLongitude(east);
  // 180 normalises to -180: keep a box that ends on the antimeridian whole.
  return {
    west: normalizeLongitude(west),
    south,
    east: e === -180 ? 180 : e,
    north
  };
}
