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

/** The index of the point nearest to (lon, lat) within `tolerance` metres, or -1. */
export function nearestPoint(
  lonLat: ArrayLike<number>,
  lon: number,
  lat: number,
  tolerance: number
): number {
  const R = 6371008.8;
  const rad = Math.PI / 180;
  const cosLat = Math.cos(lat * rad);
  let best = -1;
  let bestD2 = (tolerance / R) ** 2;
  const n = lonLat.length / 2;
  for (let i = 0; i < n; i++) {
    let dlon = lonLat[2 * i] - lon;
    dlon -= 360 * Math.round(dlon / 360);
    const x = dlon * rad * cosLat;
    const y = (lonLat[2 * i + 1] - lat) * rad;
    const d2 = x * x + y * y;
    if (d2 <= bestD2) {
      bestD2 = d2;
      best = i;
    }
  }
  return best;
}

/**
 * The value of the regular field cell containing (lon, lat) and its index in
 * `values`, or null outside the grid.
 */
export function fieldValueAt(
  input: IFieldInput,
  lon: number,
  lat: number
): { value: number; index: number } | null {
  const nlon = input.lon.length;
  const nlat = input.lat.length;
  const dlon = nlon > 1 ? Math.abs(input.lon[1] - input.lon[0]) : 1;
  const dlat = nlat > 1 ? Math.abs(input.lat[1] - input.lat[0]) : dlon;
  let column = -1;
  let best = Infinity;
  for (let i = 0; i < nlon; i++) {
    let d = input.lon[i] - lon;
    d = Math.abs(d - 360 * Math.round(d / 360));
    if (d < best) {
      best = d;
      column = i;
    }
  }
  if (best > dlon / 2 + 1e-9) {
    return null;
  }
  let row = -1;
  best = Infinity;
  for (let j = 0; j < nlat; j++) {
    const d = Math.abs(input.lat[j] - lat);
    if (d < best) {
      best = d;
      row = j;
    }
  }
  if (best > dlat / 2 + 1e-9) {
    return null;
  }
  const index = row * nlon + column;
  return { value: input.values[index], index };
}

export interface IMeshInput {
  /** Cell-centre longitudes and latitudes, row-major, `ny * nx` each. */
  lon: ArrayLike<number>;
  lat: ArrayLike<number>;
  values: ArrayLike<number>;
  /** [ny, nx] */
  shape: [number, number];
}

export interface IPreparedMesh {
  /** Quads: four (lon, lat) corners per drawn cell, counter-clockwise from the SW. */
  corners: Float64Array;
  /** RGBA per drawn cell. */
  rgba: Uint8Array;
  /** For each drawn cell, its index in `values`. */
  cells: Uint32Array;
  count: number;
  min: number;
  max: number;
}

/** `b` moved by whole turns to within 180 degrees of `a`. */
function unwrapTo(a: number, b: number): number {
  return b - 360 * Math.round((b - a) / 360);
}

/**
 * A curvilinear grid as quads: each cell's corners are the means of the four
 * surrounding centres (extrapolated at the edges), longitudes unwrapped around
 * the cell's centre so that no cell spans the globe at the antimeridian. Cells
 * with NaN values are left out (transparent).
 */
export function prepareMesh(
  input: IMeshInput,
  options: IColorOptions = {}
): IPreparedMesh {
  const what = 'Mesh';
  const [ny, nx] = input.shape;
  const n = ny * nx;
  if (!(ny >= 2 && nx >= 2)) {
    throw new Error(
      `${what}: a curvilinear grid needs at least 2 x 2 points, got ${ny} x ${nx}.`
    );
  }
  for (const [name, array] of Object.entries({
    lon: input.lon,
    lat: input.lat,
    values: input.values
  })) {
    if (array.length !== n) {
      throw new Error(
        `${what}: ${name} has ${array.length} values for a ${ny} x ${nx} grid, expected ${n}.`
      );
    }
  }
  checkLatitudes(what, input.lat);
  checkLongitudes(what, input.lon);
  const [min, max] = limits(input.values, options);
  // Centres padded by one row and column on each side, longitudes unwrapped
  // along each row, then extrapolated linearly.
  const W = nx + 2;
  const plon = new Float64Array((ny + 2) * W);
  const plat = new Float64Array((ny + 2) * W);
  for (let j = 0; j < ny; j++) {
    let previous = input.lon[j * nx];
    for (let i = 0; i < nx; i++) {
      const lon = unwrapTo(previous, input.lon[j * nx + i]);
      plon[(j + 1) * W + i + 1] = lon;
      plat[(j + 1) * W + i + 1] = input.lat[j * nx + i];
      previous = lon;
    }
  }
  for (let i = 1; i <= nx; i++) {
    for (const [edge, a, b] of [
      [0, 1, 2],
      [ny + 1, ny, ny - 1]
    ]) {
      const la = plon[a * W + i];
      plon[edge * W + i] = 2 * la - unwrapTo(la, plon[b * W + i]);
      plat[edge * W + i] = 2 * plat[a * W + i] - plat[b * W + i];
    }
  }
  for (let j = 0; j < ny + 2; j++) {
    for (const [edge, a, b] of [
      [0, 1, 2],
      [nx + 1, nx, nx - 1]
    ]) {
      const la = plon[j * W + a];
      plon[j * W + edge] = 2 * la - unwrapTo(la, plon[j * W + b]);
      plat[j * W + edge] = 2 * plat[j * W + a] - plat[j * W + b];
    }
  }
  const drawn: number[] = [];
  for (let c = 0; c < n; c++) {
    if (Number.isFinite(input.values[c])) {
      drawn.push(c);
    }
  }
  const corners = new Float64Array(drawn.length * 8);
  const rgba = new Uint8Array(drawn.length * 4);
  const cells = Uint32Array.from(drawn);
  // Corner (dj, di) of cell (j, i) is the mean of the padded centres
  // (j + dj .. j + dj + 1, i + di .. i + di + 1).
  const order: [number, number][] = [
    [0, 0],
    [0, 1],
    [1, 1],
    [1, 0]
  ];
  drawn.forEach((c, k) => {
    const j = Math.floor(c / nx);
    const i = c % nx;
    const centre = input.lon[c];
    order.forEach(([dj, di], q) => {
      let lon = 0;
      let lat = 0;
      for (const [a, b] of [
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1]
      ]) {
        const p = (j + dj + a) * W + (i + di + b);
        lon += unwrapTo(centre, plon[p]);
        lat += plat[p];
      }
      corners[8 * k + 2 * q] = lon / 4;
      corners[8 * k + 2 * q + 1] = Math.max(-90, Math.min(90, lat / 4));
    });
    rgba.set(colorFor(input.values[c], min, max, options.colormap), 4 * k);
  });
  return { corners, rgba, cells, count: drawn.length, min, max };
}

/** The mesh cell whose centre is nearest to (lon, lat), within `tolerance` metres. */
export function meshValueAt(
  input: IMeshInput,
  lon: number,
  lat: number,
  tolerance: number
): { value: number; index: number } | null {
  const n = input.lon.length;
  const lonLat = new Float64Array(2 * n);
  for (let c = 0; c < n; c++) {
    lonLat[2 * c] = input.lon[c];
    lonLat[2 * c + 1] = input.lat[c];
  }
  const index = nearestPoint(lonLat, lon, lat, tolerance);
  return index < 0 ? null : { value: input.values[index], index };
}

/** A footprint polygon: a closed ring of at least three (lon, lat) vertices. */
export function validatePolygon(ring: [number, number][]): [number, number][] {
  if (!Array.isArray(ring) || ring.length < 3) {
    throw new Error(
      `Footprint: a polygon needs at least 3 vertices, got ${Array.isArray(ring) ? ring.length : 'none'}.`
    );
  }
  return ring.map(([lon, lat], i) => {
    if (!Number.isFinite(lon) || !(lat >= -90 && lat <= 90)) {
      throw new Error(
        `Footprint: polygon vertex ${i} (${lon}, ${lat}) is not a longitude and a latitude within [-90, 90].`
      );
    }
    return [lon, lat];
  });
}
