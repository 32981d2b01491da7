/**
 * The map's projections (d3-geo): plate carrée, Equal Earth, and north and south
 * polar stereographic. A frame is one projection fitted to the part of the globe the
 * data covers, with the canvas resolution it is painted at; it turns a canvas pixel
 * into a longitude and latitude and back, and places the graticule's labels.
 */
import {
  geoEqualEarth,
  geoEquirectangular,
  geoGraticule,
  geoPath,
  type GeoPermissibleObjects,
  type GeoProjection,
  geoStereographic
} from 'd3-geo';

export type ProjectionKind =
  'latlon' | 'equal-earth' | 'north-polar' | 'south-polar';

/** The projections offered, in the order the menu lists them. */
export const PROJECTIONS: readonly ProjectionKind[] = [
  'latlon',
  'equal-earth',
  'north-polar',
  'south-polar'
];

/** How longitudes are written and where a global map is centred: 0° or 180°. */
export type LonConvention = '-180..180' | '0..360';

/**
 * The part of the globe a grid covers, in degrees; `west` < `east`, unwrapped (a grid
 * across the date line has, say, west 170 and east 200).
 */
export interface IGeoExtent {
  west: number;
  east: number;
  south: number;
  north: number;
}

/** A grid whose cells are equal steps of longitude and latitude. */
export interface IUniformGrid {
  /** The west edge of one column (any of them; the frame picks the one it starts at). */
  westEdge: number;
  lonStep: number;
  latStep: number;
}

/** A projection fitted to a box, and the canvas resolution it is painted at. */
export interface IMapFrame {
  kind: ProjectionKind;
  /** Longitudes at the map's centre (global maps) and as labels write them. */
  convention: LonConvention;
  /** A new d3 projection to projected units (the box's units); the caller may rescale it. */
  make: () => GeoProjection;
  projection: GeoProjection;
  /** Projected units -> longitude, latitude (unchecked: see `pixelToLonLat`). */
  invert: (x: number, y: number) => [number, number] | null;
  /** The visible box in projected units: left, top, width, height. */
  box: [number, number, number, number];
  /** Canvas pixels across and down. */
  pixels: [number, number];
  /** The latitude a polar map stops at (its rim). */
  rim: number | null;
  /** What the graticule spans, in degrees (west < east). */
  extent: IGeoExtent;
  /** Graticule steps, in degrees of longitude and latitude. */
  steps: [number, number];
}

/** Pixels along the longer side of a map that is not on its grid's own pixels. */
const PROJECTED_PIXELS = 720;

/** A polar map reaches this far from its pole unless the data stop sooner. */
const POLAR_RIM = 30;

const NICE_STEPS = [1, 2, 5, 10, 15, 30, 45, 60, 90];

/** Whether an extent goes all the way round the globe. */
export function isGlobal(extent: IGeoExtent): boolean {
  return extent.east - extent.west >= 359.5;
}

/** The centre longitude of a map of `extent`. */
function centreOf(extent: IGeoExtent, convention: LonConvention): number {
  if (isGlobal(extent)) {
    return convention === '0..360' ? 180 : 0;
  }
  return (extent.west + extent.east) / 2;
}

function niceStep(span: number, count: number): number {
  return NICE_STEPS.find(s => span / s <= count) ?? 90;
}

/**
 * The frame of a map of `extent` in projection `kind`.
 *
 * @param uniform - In plate carrée, a grid of equal steps is painted one pixel per cell,
 *   so that every cell keeps its exact place and colour.
 */
export function mapFrame(
  kind: ProjectionKind,
  extent: IGeoExtent,
  convention: LonConvention,
  uniform: IUniformGrid | null = null
): IMapFrame {
  const centre = centreOf(extent, convention);
  const global = isGlobal(extent);
  let make: () => GeoProjection;
  let invert: IMapFrame['invert'] | null = null;
  let rim: number | null = null;
  let shown = extent;
  if (kind === 'latlon') {
    // One projected unit per degree: x = lon - centre, y = -lat.
    make = () =>
      geoEquirectangular()
        .scale(180 / Math.PI)
        .translate([0, 0])
        .rotate([-centre, 0]);
    invert = (x, y) => [x + centre, -y];
  } else if (kind === 'equal-earth') {
    make = () =>
      geoEqualEarth().scale(1).translate([0, 0]).rotate([-centre, 0]);
  } else {
    const north = kind === 'north-polar';
    rim = north
      ? Math.min(Math.max(extent.south, POLAR_RIM), 80)
      : Math.max(Math.min(extent.north, -POLAR_RIM), -80);
    const r = rim;
    // The polar aspect's inverse in closed form (radius tan(45° - lat/2) from the pole,
    // 0° down in the north, up in the south): d3's generic inverse, through its rotation,
    // costs about a microsecond a pixel, and a map has half a million of them.
    invert = (x, y) => {
      const rho = Math.hypot(x, y);
      const lon = (Math.atan2(x, north ? y : -y) * 180) / Math.PI;
      const polar = (2 * Math.atan(rho) * 180) / Math.PI;
      return [lon, north ? 90 - polar : polar - 90];
    };
    make = () =>
      geoStereographic()
        .scale(1)
        .translate([0, 0])
        .rotate([0, north ? -90 : 90])
        .clipAngle(90 - Math.abs(r));
    shown = north
      ? { west: -180, east: 180, south: rim, north: 90 }
      : { west: -180, east: 180, south: -90, north: rim };
  }
  const projection = make();
  const d3invert = (x: number, y: number): [number, number] | null =>
    projection.invert?.([x, y]) ?? null;
  let box: [number, number, number, number];
  let pixels: [number, number];
  if (kind === 'latlon' && uniform) {
    const start = global
      ? nearestEdge(uniform, centre - 180)
      : nearestEdge(uniform, extent.west);
    const cols = Math.round(
      (global ? 360 : extent.east - extent.west) / uniform.lonStep
    );
    const rows = Math.round((extent.north - extent.south) / uniform.latStep);
    box = [
      start - centre,
      -extent.north,
      cols * uniform.lonStep,
      rows * uniform.latStep
    ];
    pixels = [cols, rows];
  } else {
    const outline: GeoPermissibleObjects =
      global || rim !== null
        ? { type: 'Sphere' }
        : geoGraticule()
            .extent([
              [extent.west, Math.max(extent.south, -90)],
              [extent.east, Math.min(extent.north, 90)]
            ])
            .outline();
    const [[x0, y0], [x1, y1]] = geoPath(projection).bounds(outline);
    box = [x0, y0, x1 - x0, y1 - y0];
    const across = box[2] >= box[3];
    const ratio = across ? box[3] / box[2] : box[2] / box[3];
    const short = Math.max(1, Math.round(PROJECTED_PIXELS * ratio));
    pixels = across ? [PROJECTED_PIXELS, short] : [short, PROJECTED_PIXELS];
  }
  // What the graticule spans: a global map's centre meridian ±180°, a polar map's cap.
  const lined =
    rim !== null
      ? shown
      : global
        ? { ...extent, west: centre - 180, east: centre + 180 }
        : extent;
  return {
    kind,
    convention,
    make,
    projection,
    invert: invert ?? d3invert,
    box,
    pixels,
    rim,
    extent: lined,
    steps: [
      niceStep(lined.east - lined.west, 12),
      niceStep(lined.north - lined.south, rim === null ? 6 : 4)
    ]
  };
}

/** The west edge of a column of a uniform grid nearest to `lon`. */
function nearestEdge(uniform: IUniformGrid, lon: number): number {
  const k = Math.round((lon - uniform.westEdge) / uniform.lonStep);
  return uniform.westEdge + k * uniform.lonStep;
}

/**
 * The longitude and latitude at canvas pixel position (`px`, `py`) (fractional: pixel
 * centres are at .5), or null where the map shows no part of the globe.
 */
export function pixelToLonLat(
  frame: IMapFrame,
  px: number,
  py: number
): [number, number] | null {
  const [x0, y0, w, h] = frame.box;
  const x = x0 + (px / frame.pixels[0]) * w;
  const y = y0 + (py / frame.pixels[1]) * h;
  const ll = frame.invert(x, y);
  if (!ll || !Number.isFinite(ll[0]) || !Number.isFinite(ll[1])) {
    return null;
  }
  if (!onMap(frame, ll[1])) {
    return null;
  }
  if (frame.kind !== 'equal-earth') {
    // Plate carrée and stereographic invert every point of their box exactly.
    return ll;
  }
  // Points off Equal Earth's outline invert to somewhere else on the globe: only a
  // point that projects back to where it came from is on the map.
  const back = frame.projection(ll);
  const tolerance = 1e-6 * Math.max(w, h);
  return back &&
    Math.abs(back[0] - x) <= tolerance &&
    Math.abs(back[1] - y) <= tolerance
    ? ll
    : null;
}

/** Canvas pixel position of a longitude and latitude; null when off the map. */
export function lonLatToPixel(
  frame: IMapFrame,
  lon: number,
  lat: number
): [number, number] | null {
  if (!onMap(frame, lat)) {
    return null;
  }
  const p = frame.projection([lon, lat]);
  if (!p) {
    return null;
  }
  const [x0, y0, w, h] = frame.box;
  const px = ((p[0] - x0) / w) * frame.pixels[0];
  const py = ((p[1] - y0) / h) * frame.pixels[1];
  const [cols, rows] = frame.pixels;
  const eps = 1e-9 * Math.max(cols, rows);
  return px < -eps || py < -eps || px > cols + eps || py > rows + eps
    ? null
    : [px, py];
}

function onMap(frame: IMapFrame, lat: number): boolean {
  if (Math.abs(lat) > 90) {
    return false;
  }
  if (frame.rim === null) {
    return true;
  }
  return frame.kind === 'north-polar' ? lat >= frame.rim : lat <= frame.rim;
}

/** "30°E", "150°W" or (0..360) "210°E"; "0°". */
export function formatLon(lon: number, convention: LonConvention): string {
  let v = ((lon % 360) + 360) % 360;
  if (convention === '-180..180' && v > 180) {
    v -= 360;
  }
  v = +v.toFixed(2);
  if (v === 0 || v === 180) {
    return `${v}°`;
  }
  return v < 0 ? `${-v}°W` : `${v}°E`;
}

/** "30°N", "45°S", "0°". */
export function formatLat(lat: number): string {
  const v = +lat.toFixed(2);
  return v === 0 ? '0°' : v < 0 ? `${-v}°S` : `${v}°N`;
}

/** A graticule label, placed in fractions of the map's box (0..1, may be just outside). */
export interface IAxisLabel {
  axis: 'lon' | 'lat';
  value: number;
  text: string;
  fx: number;
  fy: number;
  /** Which of the label's sides touches the point. */
  anchor: 'top' | 'right' | 'centre';
}

/** Multiples of `step` from `lo` to `hi` (both included). */
function multiples(lo: number, hi: number, step: number): number[] {
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + 1e-9; v += step) {
    out.push(+v.toFixed(6));
  }
  return out;
}

/**
 * The graticule's labels: meridians along the bottom edge (around the rim of a polar
 * map), parallels along the left edge (along one meridian of a polar map).
 */
export function axisLabels(frame: IMapFrame): IAxisLabel[] {
  const { extent, steps } = frame;
  const [cols, rows] = frame.pixels;
  const labels: IAxisLabel[] = [];
  const global = isGlobal(extent);
  // Equal Earth's poles are lines about half as long as its equator: fewer labels there.
  const lonStep =
    frame.kind === 'equal-earth' ? Math.max(steps[0], 60) : steps[0];
  const meridians = multiples(extent.west, extent.east, lonStep).filter(
    // A global map's both edges are one meridian: label it once.
    m => !global || m < extent.east - 1e-9
  );
  const parallels = multiples(extent.south, extent.north, steps[1]).filter(
    // Equal Earth's pole lines are labelled by the meridians' labels beside them.
    l => frame.kind !== 'equal-earth' || Math.abs(l) < 90
  );
  if (frame.rim === null) {
    for (const m of meridians) {
      const p = lonLatToPixel(
        frame,
        global ? clampInside(m, extent) : m,
        extent.south
      );
      if (p) {
        labels.push({
          axis: 'lon',
          value: m,
          text: formatLon(m, frame.convention),
          fx: p[0] / cols,
          fy: 1,
          anchor: 'top'
        });
      }
    }
    for (const l of parallels) {
      const p = lonLatToPixel(frame, extent.west + 1e-6, l);
      if (p) {
        labels.push({
          axis: 'lat',
          value: l,
          text: formatLat(l),
          fx: p[0] / cols,
          fy: p[1] / rows,
          anchor: 'right'
        });
      }
    }
    return labels;
  }
  const rim = frame.rim;
  for (const m of meridians.filter(m => m < 180)) {
    const p = lonLatToPixel(frame, m, rim);
    if (p) {
      // Just outside the rim, away from the pole.
      const dx = p[0] / cols - 0.5;
      const dy = p[1] / rows - 0.5;
      const r = Math.hypot(dx, dy) || 1;
      labels.push({
        axis: 'lon',
        value: m,
        text: formatLon(m, frame.convention),
        fx: 0.5 + (dx / r) * 0.54,
        fy: 0.5 + (dy / r) * 0.54,
        anchor: 'centre'
      });
    }
  }
  for (const l of parallels.filter(l => Math.abs(l) < 90 && l !== rim)) {
    const p = lonLatToPixel(frame, 135, l);
    if (p) {
      labels.push({
        axis: 'lat',
        value: l,
        text: formatLat(l),
        fx: p[0] / cols,
        fy: p[1] / rows,
        anchor: 'centre'
      });
    }
  }
  return labels;
}

/** A meridian on a global map's west edge, moved a hair inside so that it is drawn there. */
function clampInside(m: number, extent: IGeoExtent): number {
  return Math.abs(m - extent.west) < 1e-9 ? m + 1e-6 : m;
}
