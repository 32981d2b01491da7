/**
 * Which dimensions of a variable are latitude, longitude and time, from the CF
 * attributes of the coordinate variables named after them.
 */
import { isTimeUnits, type Attributes } from './cf';

/** A variable's metadata, as the Zarr (v2 or v3) metadata describes it. */
export interface VariableInfo {
  /** Path in the store, without the leading slash. */
  name: string;
  /** Where to open it when not at `name` (a store that is one array: its root). */
  path?: string;
  dims: string[];
  shape: number[];
  chunks: number[];
  dtype: string;
  attrs: Attributes;
  /** The Zarr fill value (kerchunk puts a NetCDF `_FillValue` here). */
  fillValue: unknown;
}

/** The roles of a variable's dimensions; `null` where none was found. */
export interface Axes {
  lat: string | null;
  lon: string | null;
  time: string | null;
}

const LAT_UNITS = /^degrees?_?n(orth)?$/i;
const LON_UNITS = /^degrees?_?e(ast)?$/i;

/** The role a coordinate variable's attributes give it. */
export function axisRole(name: string, attrs: Attributes): keyof Axes | null {
  const axis = String(attrs.axis ?? '').toUpperCase();
  const standard = String(attrs.standard_name ?? '');
  // A rotated pole's grid latitude and longitude (axis Y and X too) are not where the
  // cells are on the globe: see findRotatedPole.
  if (standard === 'grid_latitude' || standard === 'grid_longitude') {
    return null;
  }
  const units = String(attrs.units ?? '');
  if (axis === 'Y' || standard === 'latitude' || LAT_UNITS.test(units)) {
    return 'lat';
  }
  if (axis === 'X' || standard === 'longitude' || LON_UNITS.test(units)) {
    return 'lon';
  }
  if (axis === 'T' || standard === 'time' || isTimeUnits(units)) {
    return 'time';
  }
  // Files without CF attributes still tend to name their dimensions plainly.
  const lower = name.toLowerCase();
  if (lower === 'lat' || lower === 'latitude') {
    return 'lat';
  }
  if (lower === 'lon' || lower === 'longitude') {
    return 'lon';
  }
  if (lower === 'time') {
    return 'time';
  }
  return null;
}

/**
 * The lat/lon/time dimensions of `variable`, from the coordinate variables among
 * `variables` (a dimension without one is judged by its name only).
 */
export function findAxes(
  variable: VariableInfo,
  variables: readonly VariableInfo[]
): Axes {
  const axes: Axes = { lat: null, lon: null, time: null };
  for (const dim of variable.dims) {
    const coord = variables.find(
      v => v.dims.length === 1 && v.dims[0] === dim && leaf(v.name) === dim
    );
    const role = axisRole(dim, coord?.attrs ?? {});
    if (role && axes[role] === null) {
      axes[role] = dim;
    }
  }
  return axes;
}

/** The 2-D latitude and longitude of a variable on a curvilinear grid. */
export interface ICurvilinear {
  /** 2-D latitude; on a rotated pole without it, the 1-D grid latitude (rows). */
  lat: VariableInfo;
  /** 2-D longitude; on a rotated pole without it, the 1-D grid longitude (columns). */
  lon: VariableInfo;
  /** Their two dimensions (rows, then columns), both dimensions of the variable. */
  dims: [string, string];
  /** Set when the latitude and longitude are to be computed from a rotated pole. */
  pole?: IRotatedPole;
}

/** A CF `rotated_latitude_longitude` grid mapping, in degrees. */
export interface IRotatedPole {
  poleLat: number;
  poleLon: number;
  /** The true north pole's longitude in the rotated grid (0 unless said). */
  gridLon: number;
}

/**
 * A rotated-pole grid without 2-D latitude and longitude (those are found first by
 * findCurvilinear): the grid mapping the variable names and its 1-D grid latitude and
 * longitude; null when the variable is not on one.
 */
export function findRotatedPole(
  variable: VariableInfo,
  variables: readonly VariableInfo[]
): ICurvilinear | null {
  const mappingName = String(variable.attrs.grid_mapping ?? '');
  const mapping = variables.find(v => leaf(v.name) === mappingName);
  if (
    !mapping ||
    mapping.attrs.grid_mapping_name !== 'rotated_latitude_longitude'
  ) {
    return null;
  }
  const poleLat = Number(mapping.attrs.grid_north_pole_latitude);
  const poleLon = Number(mapping.attrs.grid_north_pole_longitude);
  const gridLon = Number(mapping.attrs.north_pole_grid_longitude ?? 0);
  if (![poleLat, poleLon, gridLon].every(Number.isFinite)) {
    return null;
  }
  const axis = (standard: string): VariableInfo | undefined =>
    variable.dims
      .map(d => coordinateOf(d, variables))
      .find(c => c?.attrs.standard_name === standard);
  const lat = axis('grid_latitude');
  const lon = axis('grid_longitude');
  if (!lat || !lon) {
    return null;
  }
  const dims: [string, string] = [lat.dims[0], lon.dims[0]];
  return { lat, lon, dims, pole: { poleLat, poleLon, gridLon } };
}

/**
 * The 2-D latitude and longitude variables of `variable` (those its `coordinates`
 * attribute names first, then any 2-D latitude/longitude over two of its
 * dimensions), or null when it has none: a curvilinear grid.
 */
export function findCurvilinear(
  variable: VariableInfo,
  variables: readonly VariableInfo[]
): ICurvilinear | null {
  const named = String(variable.attrs.coordinates ?? '')
    .split(/\s+/)
    .filter(Boolean);
  const byName = (v: VariableInfo): number => {
    const i = named.indexOf(leaf(v.name));
    return i < 0 ? named.length : i;
  };
  const candidates = variables
    .filter(
      v =>
        v.dims.length === 2 &&
        v.dims.every(d => variable.dims.includes(d)) &&
        v.dims[0] !== v.dims[1]
    )
    .sort((a, b) => byName(a) - byName(b));
  for (const lat of candidates) {
    if (axisRole(leaf(lat.name), lat.attrs) !== 'lat') {
      continue;
    }
    const lon = candidates.find(
      v =>
        axisRole(leaf(v.name), v.attrs) === 'lon' &&
        v.dims[0] === lat.dims[0] &&
        v.dims[1] === lat.dims[1]
    );
    if (lon) {
      return { lat, lon, dims: [lat.dims[0], lat.dims[1]] };
    }
  }
  return null;
}

/** The coordinate variable of a dimension, if the store has one. */
export function coordinateOf(
  dim: string,
  variables: readonly VariableInfo[]
): VariableInfo | undefined {
  return variables.find(
    v => v.dims.length === 1 && v.dims[0] === dim && leaf(v.name) === dim
  );
}

/**
 * The two dimensions a map shows (rows, then columns): latitude and longitude
 * when found, else the last two.
 */
export function mapDims(
  variable: VariableInfo,
  axes: Axes,
  curvilinear: ICurvilinear | null = null
): [string, string] | null {
  if (variable.dims.length < 2) {
    return null;
  }
  if (axes.lat && axes.lon) {
    return [axes.lat, axes.lon];
  }
  if (curvilinear) {
    return curvilinear.dims;
  }
  const n = variable.dims.length;
  return [variable.dims[n - 2], variable.dims[n - 1]];
}

/**
 * The variables worth a map, data variables first: those with two or more
 * dimensions that are not the bounds of a coordinate.
 */
export function dataVariables(
  variables: readonly VariableInfo[]
): VariableInfo[] {
  const bounds = new Set(
    variables.map(v => v.attrs.bounds).filter(b => typeof b === 'string')
  );
  // Coordinates and cell measures (2-D latitude, cell area) come after the variables
  // they describe; then the most dimensions first (the data a file is about).
  const auxiliary = new Set<string>();
  for (const v of variables) {
    for (const name of String(v.attrs.coordinates ?? '').split(/\s+/)) {
      auxiliary.add(name);
    }
    for (const m of String(v.attrs.cell_measures ?? '').matchAll(
      /\w+:\s*(\S+)/g
    )) {
      auxiliary.add(m[1]);
    }
  }
  const rank = (v: VariableInfo): number =>
    (auxiliary.has(leaf(v.name)) ? 100 : 0) - v.dims.length;
  return variables
    .filter(v => v.dims.length >= 2 && !bounds.has(leaf(v.name)))
    .map((v, i) => ({ v, i }))
    .sort((a, b) => rank(a.v) - rank(b.v) || a.i - b.i)
    .map(({ v }) => v);
}

/**
 * The variables of a kerchunk reference spec (a Zarr v2 view), from its
 * `.zarray` and `.zattrs` keys.
 */
export function variablesFromReferences(
  refs: Record<string, unknown>
): VariableInfo[] {
  const out: VariableInfo[] = [];
  for (const key of Object.keys(refs)) {
    if (!key.endsWith('/.zarray') && key !== '.zarray') {
      continue;
    }
    const name = key.slice(0, -'.zarray'.length).replace(/\/$/, '');
    const zarray = parseJson(refs[key]);
    const attrs = parseJson(refs[name ? `${name}/.zattrs` : '.zattrs']) ?? {};
    if (!zarray) {
      continue;
    }
    const shape = (zarray.shape as number[]) ?? [];
    const dimsAttr = attrs._ARRAY_DIMENSIONS;
    const rest = { ...attrs };
    delete rest._ARRAY_DIMENSIONS;
    out.push({
      name,
      dims: Array.isArray(dimsAttr)
        ? dimsAttr.map(String)
        : shape.map((_, i) => `dim_${i}`),
      shape,
      chunks: (zarray.chunks as number[]) ?? shape,
      dtype: String(zarray.dtype),
      attrs: rest,
      fillValue: zarray.fill_value ?? null
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

function parseJson(value: unknown): Record<string, unknown> | null {
  if (typeof value === 'string') {
    try {
      return JSON.parse(value) as Record<string, unknown>;
    } catch {
      return null;
    }
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return value as Record<string, unknown>;
  }
  return null;
}

function leaf(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}
