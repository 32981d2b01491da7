/**
 * What is drawn over the data: Natural Earth's coastlines and country borders (the
 * 1:50m `world-atlas` TopoJSON, bundled in the extension and loaded on first use, so
 * that no request leaves the server), the graticule, the map's outline and the clicked
 * point. The same drawing serves the screen and the exported PNG.
 */
import { geoGraticule, geoPath } from 'd3-geo';
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

/**
 * Draw the overlay of `frame` on a `width` x `height` context (device pixels, `ratio`
 * of them per CSS pixel).
 *
 * @param marker - The clicked cell's centre (longitude, latitude), or null.
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
  marker: [number, number] | null,
  ink = 'black'
): void {
  const [x0, y0, w] = frame.box;
  const k = width / w;
  const projection = frame.make();
  projection
    .scale(projection.scale() * k)
    .translate([-x0 * k, -y0 * k])
    .clipExtent([
      [0, 0],
      [width, height]
    ]);
  const path = geoPath(projection, ctx);
  const stroke = (
    object: Parameters<typeof path>[0],
    colour: string,
    lineWidth: number,
    dash: number[] = [],
    alpha = 1
  ): void => {
    ctx.beginPath();
    path(object);
    ctx.strokeStyle = colour;
    ctx.globalAlpha = alpha;
    ctx.lineWidth = lineWidth * ratio;
    ctx.setLineDash(dash.map(d => d * ratio));
    ctx.stroke();
    ctx.globalAlpha = 1;
  };
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
  stroke(
    graticule(),
    OVERLAY_STYLE.graticule,
    OVERLAY_STYLE.graticuleWidth,
    [3, 3]
  );
  if (basemap) {
    stroke(
      basemap.borders,
      ink,
      OVERLAY_STYLE.borderWidth,
      [],
      OVERLAY_STYLE.borderAlpha
    );
    stroke(
      basemap.coastlines,
      ink,
      OVERLAY_STYLE.coastlineWidth,
      [],
      OVERLAY_STYLE.coastlineAlpha
    );
  }
  if (frame.kind !== 'latlon') {
    stroke({ type: 'Sphere' }, OVERLAY_STYLE.outline, 1);
  }
  const at = marker ? projection(marker) : null;
  if (at) {
    ctx.setLineDash([]);
    ctx.beginPath();
    ctx.arc(at[0], at[1], OVERLAY_STYLE.markerRadius * ratio, 0, 2 * Math.PI);
    ctx.lineWidth = 3 * ratio;
    ctx.strokeStyle = 'white';
    ctx.stroke();
    ctx.lineWidth = 1.5 * ratio;
    ctx.strokeStyle = 'black';
    ctx.stroke();
  }
}
