/**
 * Which grid cell is at a longitude and latitude: the lookup behind every projected
 * pixel, the value under the pointer and the clicked point. Regular grids are searched
 * on their cell edges (half-way between centres); curvilinear grids start from the
 * regridded picture of `regrid.ts` and walk to the nearest cell centre on the globe.
 */
import type { IGeoExtent, IMapFrame, IUniformGrid } from './projection';
import { pixelToLonLat } from './projection';
import { type IRegridded, wrapLongitude } from './regrid';

export interface ICellLocator {
  rows: number;
  cols: number;
  /** The part of the globe the grid covers. */
  extent: IGeoExtent;
  /**
   * The pixels a plate carrée map is painted on, one per cell: the grid's own cells when
   * they are equal steps of longitude and latitude, the regridded picture's for a global
   * curvilinear grid; null otherwise.
   */
  pixelGrid: IUniformGrid | null;
  /** The cell (row-major index into the slice) at a longitude and latitude; -1: none. */
  locate: (lon: number, lat: number) => number;
  /** A cell's centre: longitude, latitude. */
  centre: (k: number) => [number, number];
}

/** Cell edges of increasing centres: half-way between them, half a step past the ends. */
function edgesOf(centres: ArrayLike<number>): Float64Array {
  const n = centres.length;
  const edges = new Float64Array(n + 1);
  const first = n > 1 ? centres[1] - centres[0] : 1;
  const last = n > 1 ? centres[n - 1] - centres[n - 2] : 1;
  edges[0] = centres[0] - first / 2;
  for (let i = 1; i < n; i++) {
    edges[i] = (centres[i - 1] + centres[i]) / 2;
  }
  edges[n] = centres[n - 1] + last / 2;
  return edges;
}

/** The index i with edges[i] <= v < edges[i + 1]; -1 outside. */
function bin(edges: Float64Array, v: number): number {
  const n = edges.length - 1;
  if (!(v >= edges[0] && v <= edges[n])) {
    return -1;
  }
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (edges[mid] <= v) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

/** Whether steps between consecutive values are all equal (to float32 precision). */
function uniformStep(values: ArrayLike<number>): number | null {
  const n = values.length;
  if (n < 2) {
    return null;
  }
  const step = (values[n - 1] - values[0]) / (n - 1);
  for (let i = 1; i < n; i++) {
    if (Math.abs(values[i] - values[i - 1] - step) > 1e-4 * Math.abs(step)) {
      return null;
    }
  }
  return step;
}

/**
 * The locator of a grid on 1-D latitude (rows) and longitude (columns); null when a
 * coordinate is not monotonic (the map is then drawn on the grid itself).
 */
export function regularLocator(
  lat: ArrayLike<number>,
  lon: ArrayLike<number>
): ICellLocator | null {
  const rows = lat.length;
  const cols = lon.length;
  if (!rows || !cols) {
    return null;
  }
  const latDown = rows > 1 && lat[0] > lat[rows - 1];
  const latUp = Float64Array.from({ length: rows }, (_, i) =>
    Number(lat[latDown ? rows - 1 - i : i])
  );
  // Longitudes may wrap (170, 180, -170): unwrap them into one increasing run.
  const lonRun = new Float64Array(cols);
  lonRun[0] = Number(lon[0]);
  for (let i = 1; i < cols; i++) {
    lonRun[i] =
      lonRun[i - 1] + wrapLongitude(Number(lon[i]) - Number(lon[i - 1]));
  }
  const lonDown = cols > 1 && lonRun[0] > lonRun[cols - 1];
  const lonUp = lonDown ? lonRun.slice().reverse() : lonRun;
  if (![latUp, lonUp].every(monotonic)) {
    return null;
  }
  const latEdges = edgesOf(latUp);
  const lonEdges = edgesOf(lonUp);
  const west = lonEdges[0];
  const global = lonEdges[cols] - west >= 359.5;
  if (global) {
    // The last cell reaches round to the first.
    lonEdges[cols] = west + 360;
  }
  const latStep = uniformStep(latUp);
  const lonStep = uniformStep(lonUp);
  return {
    rows,
    cols,
    extent: {
      west,
      east: lonEdges[cols],
      south: latEdges[0],
      north: latEdges[rows]
    },
    pixelGrid: latStep && lonStep ? { westEdge: west, lonStep, latStep } : null,
    locate: (lo, la) => {
      const i = bin(latEdges, la);
      if (i < 0 || Math.abs(la) > 90) {
        return -1;
      }
      const l = west + ((((lo - west) % 360) + 360) % 360);
      const j = bin(lonEdges, l);
      if (j < 0) {
        return -1;
      }
      const row = latDown ? rows - 1 - i : i;
      const col = lonDown ? cols - 1 - j : j;
      return row * cols + col;
    },
    centre: k => [Number(lon[k % cols]), Number(lat[Math.floor(k / cols)])]
  };
}

function monotonic(values: Float64Array): boolean {
  for (let i = 1; i < values.length; i++) {
    if (!(values[i] > values[i - 1])) {
      return false;
    }
  }
  return true;
}

const NEIGHBOURS = [
  [-1, -1],
  [-1, 0],
  [-1, 1],
  [0, -1],
  [0, 1],
  [1, -1],
  [1, 0],
  [1, 1]
];

/**
 * The locator of a curvilinear grid (2-D latitude and longitude of `rows` x `cols`
 * cells) from its regridded picture: the picture's cell is the first guess, then the
 * walk goes to whichever neighbour's centre is nearer (great-circle distance) until none
 * is.
 */
export function curvilinearLocator(
  lat: ArrayLike<number>,
  lon: ArrayLike<number>,
  rows: number,
  cols: number,
  grid: IRegridded
): ICellLocator {
  const step = 360 / grid.width;
  // Cell centres as points on the unit sphere: the nearest by straight-line distance is
  // the nearest on the globe, and no trigonometry is left for the walk.
  const xyz = new Float64Array(rows * cols * 3);
  for (let k = 0; k < rows * cols; k++) {
    const [x, y, z] = unitVector(lon[k], lat[k]);
    xyz.set([x, y, z], k * 3);
  }
  const locate = (lo: number, la: number): number => {
    if (!(Math.abs(la) <= 90)) {
      return -1;
    }
    const x = Math.floor((wrapLongitude(lo) + 180) / step) % grid.width;
    const y = Math.min(Math.floor((90 - la) / step), grid.height - 1);
    let k = grid.index[y * grid.width + x];
    if (k < 0) {
      return -1;
    }
    const [px, py, pz] = unitVector(lo, la);
    const distance = (j: number): number => {
      const d =
        (xyz[j * 3] - px) ** 2 +
        (xyz[j * 3 + 1] - py) ** 2 +
        (xyz[j * 3 + 2] - pz) ** 2;
      return Number.isFinite(d) ? d : Infinity;
    };
    let best = distance(k);
    // Each step is to a strictly nearer centre, so the walk ends; the bound is a guard
    // against grids whose coordinates are not finite.
    for (let steps = 0; steps < rows + cols; steps++) {
      const r = Math.floor(k / cols);
      const c = k % cols;
      let next = k;
      for (const [dr, dc] of NEIGHBOURS) {
        const rr = r + dr;
        const cc = c + dc;
        if (rr < 0 || rr >= rows || cc < 0 || cc >= cols) {
          continue;
        }
        const d = distance(rr * cols + cc);
        if (d < best) {
          best = d;
          next = rr * cols + cc;
        }
      }
      if (next === k) {
        break;
      }
      k = next;
    }
    return k;
  };
  const extent = curvilinearExtent(lat, lon);
  return {
    rows,
    cols,
    extent,
    pixelGrid:
      extent.east - extent.west >= 360
        ? { westEdge: -180, lonStep: step, latStep: step }
        : null,
    locate,
    centre: k => [lon[k], lat[k]]
  };
}

function unitVector(lon: number, lat: number): [number, number, number] {
  const l = (lon * Math.PI) / 180;
  const p = (lat * Math.PI) / 180;
  return [Math.cos(p) * Math.cos(l), Math.cos(p) * Math.sin(l), Math.sin(p)];
}

/**
 * The part of the globe 2-D coordinates cover: the whole globe when their longitudes
 * leave no gap wider than 10°, else the longitudes outside the widest gap.
 */
export function curvilinearExtent(
  lat: ArrayLike<number>,
  lon: ArrayLike<number>
): IGeoExtent {
  let south = Infinity;
  let north = -Infinity;
  const wrapped: number[] = [];
  for (let k = 0; k < lat.length; k++) {
    if (Number.isFinite(lat[k]) && Number.isFinite(lon[k])) {
      south = Math.min(south, lat[k]);
      north = Math.max(north, lat[k]);
      wrapped.push(wrapLongitude(lon[k]));
    }
  }
  if (!wrapped.length) {
    return { west: -180, east: 180, south: -90, north: 90 };
  }
  wrapped.sort((a, b) => a - b);
  let gap = wrapped[0] + 360 - wrapped[wrapped.length - 1];
  let after = 0;
  for (let i = 1; i < wrapped.length; i++) {
    if (wrapped[i] - wrapped[i - 1] > gap) {
      gap = wrapped[i] - wrapped[i - 1];
      after = i;
    }
  }
  if (gap < 10) {
    return { west: -180, east: 180, south: -90, north: 90 };
  }
  const west = wrapped[after];
  const east = wrapped[(after + wrapped.length - 1) % wrapped.length];
  return { west, east: east < west ? east + 360 : east, south, north };
}

/**
 * The cell each canvas pixel of `frame` shows (-1: none), for `renderIndexed`.
 */
export function pixelCells(
  frame: IMapFrame,
  locator: ICellLocator
): Int32Array {
  const [width, height] = frame.pixels;
  const out = new Int32Array(width * height).fill(-1);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const ll = pixelToLonLat(frame, x + 0.5, y + 0.5);
      if (ll) {
        out[y * width + x] = locator.locate(ll[0], ll[1]);
      }
    }
  }
  return out;
}
