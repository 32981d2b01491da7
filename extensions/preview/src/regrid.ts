/**
 * Curvilinear grids (2-D latitude and longitude, as ocean models write them, or
 * computed from a rotated pole as regional models define them): the map is drawn on a regular latitude/longitude grid, each pixel showing the
 * nearest cell of the model grid within that cell's own size, so that the
 * continents are where they belong and nothing is interpolated.
 */

import { geoRotation } from 'd3-geo';
import type { IRotatedPole } from './axes';

/** A regular picture of a curvilinear field: pixel -> source cell. */
export interface IRegridded {
  /** Source cell (row-major index into the 2-D slice) of each pixel, north row first; -1: none. */
  index: Int32Array;
  width: number;
  height: number;
  /** Pixel-centre latitudes (north first) and longitudes (-180 to 180). */
  lat: Float64Array;
  lon: Float64Array;
}

/** Degrees past which a cell's neighbour is taken as across a seam, not a neighbour. */
const MAX_CELL_DEGREES = 10;

/** Longitude in [-180, 180). */
export function wrapLongitude(lon: number): number {
  return ((((lon + 180) % 360) + 360) % 360) - 180;
}

/**
 * The pixel grid for a curvilinear field of `rows` x `cols` cells: about as many
 * pixels around the globe as the model has cells (at least 1 degree, at most 0.25).
 */
export function regridSize(cols: number): { width: number; height: number } {
  const width = 2 * Math.round(Math.min(1440, Math.max(360, cols)) / 2);
  return { width, height: width / 2 };
}

/**
 * Nearest-cell resampling of a curvilinear grid onto a regular global grid.
 *
 * @param lat - Cell-centre latitudes, row-major `rows` x `cols`.
 * @param lon - Cell-centre longitudes, same shape, in any 360-degree range.
 */
export function regridNearest(
  lat: ArrayLike<number>,
  lon: ArrayLike<number>,
  rows: number,
  cols: number,
  size = regridSize(cols)
): IRegridded {
  const n = rows * cols;
  if (lat.length !== n || lon.length !== n) {
    throw new Error(
      `The 2-D latitude and longitude have ${lat.length} and ${lon.length} values for a ${rows} x ${cols} grid.`
    );
  }
  const { width, height } = size;
  const step = 360 / width;
  const index = new Int32Array(width * height).fill(-1);
  const distance = new Float64Array(width * height).fill(Infinity);
  const latOut = Float64Array.from(
    { length: height },
    (_, y) => 90 - (y + 0.5) * step
  );
  const lonOut = Float64Array.from(
    { length: width },
    (_, x) => -180 + (x + 0.5) * step
  );

  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const k = r * cols + c;
      const la = lat[k];
      const lo = wrapLongitude(lon[k]);
      if (!Number.isFinite(la) || !Number.isFinite(lo) || Math.abs(la) > 90) {
        continue;
      }
      const cosLat = Math.max(Math.cos((la * Math.PI) / 180), 0.05);
      // The cell's half-size: half the largest distance to its grid neighbours.
      let reach = 0;
      for (const [dr, dc] of [
        [0, 1],
        [0, -1],
        [1, 0],
        [-1, 0]
      ]) {
        const rr = r + dr;
        const cc = c + dc;
        if (rr < 0 || rr >= rows || cc < 0 || cc >= cols) {
          continue;
        }
        const kk = rr * cols + cc;
        const dLat = Math.abs(lat[kk] - la);
        const dLon = Math.abs(wrapLongitude(lon[kk] - lo)) * cosLat;
        const d = Math.max(dLat, dLon);
        if (Number.isFinite(d) && d < MAX_CELL_DEGREES) {
          reach = Math.max(reach, d);
        }
      }
      // A little over half, so that neighbouring cells leave no holes between them.
      reach = Math.max(reach * 0.75, step / 2);
      const yr = Math.ceil(reach / step);
      const xr = Math.min(Math.ceil(reach / cosLat / step), width / 2);
      const y0 = Math.floor((90 - la) / step);
      const x0 = Math.floor((lo + 180) / step);
      for (let y = y0 - yr; y <= y0 + yr; y++) {
        if (y < 0 || y >= height) {
          continue;
        }
        const dy = latOut[y] - la;
        for (let x = x0 - xr; x <= x0 + xr; x++) {
          const xw = ((x % width) + width) % width;
          const dx = wrapLongitude(lonOut[xw] - lo) * cosLat;
          if (Math.abs(dx) > reach || Math.abs(dy) > reach) {
            continue;
          }
          const d = dx * dx + dy * dy;
          const p = y * width + xw;
          if (d < distance[p]) {
            distance[p] = d;
            index[p] = k;
          }
        }
      }
    }
  }
  return { index, width, height, lat: latOut, lon: lonOut };
}

/** The values of a regridded picture (NaN where no cell reaches), north row first. */
export function regriddedValues(
  values: ArrayLike<number>,
  grid: IRegridded
): Float64Array {
  const out = new Float64Array(grid.index.length);
  for (let p = 0; p < out.length; p++) {
    const k = grid.index[p];
    out[p] = k >= 0 ? values[k] : NaN;
  }
  return out;
}

/**
 * The 2-D latitude and longitude (row-major, rows along `rlat`) of a rotated-pole grid:
 * the rotation that takes the rotated pole to the north pole, undone (d3-geo's).
 */
export function rotatedToGeographic(
  rlat: ArrayLike<number>,
  rlon: ArrayLike<number>,
  pole: IRotatedPole
): { lat: Float64Array; lon: Float64Array } {
  // Geographic -> rotated: turn the pole's meridian to 180°, then tilt it up to 90°N.
  const rotation = geoRotation([-(pole.poleLon + 180), -(90 - pole.poleLat)]);
  const n = rlat.length * rlon.length;
  const lat = new Float64Array(n);
  const lon = new Float64Array(n);
  for (let r = 0; r < rlat.length; r++) {
    for (let c = 0; c < rlon.length; c++) {
      const [lo, la] = rotation.invert([rlon[c] - pole.gridLon, rlat[r]]);
      lat[r * rlon.length + c] = la;
      lon[r * rlon.length + c] = lo;
    }
  }
  return { lat, lon };
}
