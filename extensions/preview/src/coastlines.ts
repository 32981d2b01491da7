/**
 * What is drawn over the data: Natural Earth's coastlines and country borders (the
 * 1:50m `world-atlas` TopoJSON, bundled in the extension and loaded on first use, so
 * that no request leaves the server), the graticule, the map's outline and the clicked
 * point. The same drawing serves the screen and the exported PNG.
 */
import { geoGraticule, geoPath, type GeoProjection } from 'd3-geo';
import type { MultiLineString } from 'geojson';
import { mesh } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import { type IMapFrame, isGlobal } from './projection';

/** Coastlines and the borders between countries, as lines. */
export interface IBasemap {
  coastlines: MultiLineString;
  borders: MultiLineString;
}

type Atlas = Topology<{
  countries: GeometryCollection;
  land: GeometryCollection;
}>;

/** The lines of a `world-atlas` topology: the land's outline and the shared borders. */
export function basemapOf(atlas: Atlas): IBasemap {
  return {
    coastlines: mesh(atlas, atlas.objects.land),
    borders: mesh(atlas, atlas.objects.countries, (a, b) => a !== b)
  };
}

let loading: Promise<IBasemap> | null = null;

/** Natural Earth's lines, from the extension's own bundle (a chunk of its own). */
export function loadBasemap(): Promise<IBasemap> {
  loading ??= import('world-atlas/countries-50m.json').then(module =>
    basemapOf(module.default as unknown as Atlas)
  );
  return loading;
}

/** The overlay's colours (besides the ink of the lines) and line widths (CSS pixels). */
export const OVERLAY_STYLE = {
  coastlineAlpha: 0.9,
  coastlineWidth: 1,
  borderAlpha: 0.5,
  borderWidth: 0.6,
  graticule: 'rgba(128, 128, 128, 0.8)',
  graticuleWidth: 0.6,
  outline: 'rgba(128, 128, 128, 1)',
  markerRadius: 5
};

/** The overlay's lines projected onto a canvas, as SVG path data (canvas pixels). */
export interface IOverlayPaths {
  graticule: string;
  /** Empty until Natural Earth's lines are loaded. */
  borders: string;
  coastlines: string;
  /** The globe's outline (projections other than plate carrée), or empty. */
  outline: string;
}

/**
 * The projection of `frame` scaled to a `width` x `height` canvas and clipped to it.
 */
export function canvasProjection(
  frame: IMapFrame,
  width: number,
  height: number
): GeoProjection {
  const [x0, y0, w] = frame.box;
  const k = width / w;
  const projection = frame.make();
  return projection
    .scale(projection.scale() * k)
    .translate([-x0 * k, -y0 * k])
    .clipExtent([
      [0, 0],
      [width, height]
    ]);
}

/** The last projected lines of each frame (one map view holds one frame at a time). */
const projected = new WeakMap<
  IMapFrame,
  { key: string; basemap: IBasemap | null; paths: IOverlayPaths }
>();

/**
 * The overlay's lines for `frame` on a `width` x `height` canvas, projected once per
 * view and canvas size: projecting the 1:50m coastlines costs tens of milliseconds,
 * and a new time step, a click or a theme change must not pay it again.
 */
export function overlayPaths(
  frame: IMapFrame,
  width: number,
  height: number,
  basemap: IBasemap | null
): IOverlayPaths {
  const key = `${width}x${height}`;
  const cached = projected.get(frame);
  if (cached && cached.key === key && cached.basemap === basemap) {
    return cached.paths;
  }
  // No context: d3 writes SVG path data, which Path2D takes as it is.
  const path = geoPath(canvasProjection(frame, width, height));
  const { extent, steps } = frame;
  // Just inside the poles, so that a global map's edges are not drawn as parallels.
  const graticule = geoGraticule()
    .extent([
      [extent.west, Math.max(extent.south, -90 + 1e-6)],
      [
        isGlobal(extent) ? extent.east : extent.east + 1e-6,
        Math.min(extent.north, 90 - 1e-6)
      ]
    ])
    .step(steps);
  const paths: IOverlayPaths = {
    graticule: path(graticule()) ?? '',
    borders: basemap ? (path(basemap.borders) ?? '') : '',
    coastlines: basemap ? (path(basemap.coastlines) ?? '') : '',
    outline: frame.kind !== 'latlon' ? (path({ type: 'Sphere' }) ?? '') : ''
  };
  projected.set(frame, { key, basemap, paths });
  return paths;
}

/** Path2D objects of the projected lines, made once per set of lines. */
const path2d = new WeakMap<IOverlayPaths, Record<string, Path2D>>();

/**
 * Draw the lines of `frame` (graticule, borders, coastlines, outline) on a `width` x
 * `height` context (device pixels, `ratio` of them per CSS pixel). The clicked point is
 * drawn apart ({@link drawMarker}), so that a click does not redraw the coastlines.
 *
 * @param ink - The colour of the coastlines and borders: the theme's text colour, so that
 *   they show where the data are missing too (dark in a light theme, light in a dark one).
 */
export function drawOverlay(
  ctx: CanvasRenderingContext2D,
  frame: IMapFrame,
  width: number,
  height: number,
  ratio: number,
  basemap: IBasemap | null,
  ink = 'black'
): void {
  const paths = overlayPaths(frame, width, height, basemap);
  let shapes = path2d.get(paths);
  if (!shapes) {
    shapes = Object.fromEntries(
      Object.entries(paths).map(([k, d]) => [k, new Path2D(d)])
    );
    path2d.set(paths, shapes);
  }
  const stroke = (
    shape: Path2D,
    colour: string,
    lineWidth: number,
    dash: number[] = [],
    alpha = 1
  ): void => {
    ctx.strokeStyle = colour;
    ctx.globalAlpha = alpha;
    ctx.lineWidth = lineWidth * ratio;
    ctx.setLineDash(dash.map(d => d * ratio));
    ctx.stroke(shape);
    ctx.globalAlpha = 1;
  };
  stroke(
    shapes.graticule,
    OVERLAY_STYLE.graticule,
    OVERLAY_STYLE.graticuleWidth,
    [3, 3]
  );
  if (basemap) {
    stroke(
      shapes.borders,
      ink,
      OVERLAY_STYLE.borderWidth,
      [],
      OVERLAY_STYLE.borderAlpha
    );
    stroke(
      shapes.coastlines,
      ink,
      OVERLAY_STYLE.coastlineWidth,
      [],
      OVERLAY_STYLE.coastlineAlpha
    );
  }
  if (paths.outline) {
    stroke(shapes.outline, OVERLAY_STYLE.outline, 1);
  }
}

/** The clicked point, a ring at canvas pixel (`x`, `y`), on its own canvas. */
export function drawMarker(
  ctx: CanvasRenderingContext2D,
  x: number,
  y: number,
  ratio: number,
  halo: boolean
): void {
  ctx.setLineDash([]);
  ctx.beginPath();
  ctx.arc(x, y, OVERLAY_STYLE.markerRadius * ratio, 0, 2 * Math.PI);
  if (halo) {
    ctx.lineWidth = 3 * ratio;
    ctx.strokeStyle = 'white';
    ctx.stroke();
  }
  ctx.lineWidth = 1.5 * ratio;
  ctx.strokeStyle = 'black';
  ctx.stroke();
}
