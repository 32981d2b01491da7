/**
 * The painting of the map: the canvas coloured from the slice (through the projection's
 * pixel -> cell table, or on the grid's own rows and columns), the overlay of coastlines,
 * graticule and clicked point, the axes' labels, the colour bar, the chunk-grid overlay,
 * and the statistics line that says which colours mean which values.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import React, { useEffect, useRef, useState } from 'react';
import type { IChunkRect } from './chunk-grid';
import {
  canvasProjection,
  drawMarker,
  drawOverlay,
  type IBasemap
} from './coastlines';
import { colourBarTicks } from './colorbar';
import {
  colormapTable,
  renderIndexed,
  renderRGBA,
  type Scale,
  type Stats
} from './colormap';
import { formatBytes, formatNumber } from './format';
import type { ICell, IGeoView } from './map-data';
import { axisLabels, pixelToLonLat } from './projection';
import type { IOverviewInfo } from './overview';
import type { Slice2D } from './reader';

export interface IMapCanvasProps {
  canvas: React.RefObject<HTMLCanvasElement>;
  /** The whole figure (title, map, axes, colour bar): what Export PNG saves. */
  figure: React.RefObject<HTMLElement>;
  slice: Slice2D | null;
  limits: [number, number] | null;
  cmap: string;
  scale: Scale;
  /** On the grid's own pixels: draw the first row at the bottom (the row coordinate increases). */
  flip: boolean;
  /** The map's projection and the cell of each of its pixels; null draws the grid itself. */
  geo: IGeoView | null;
  /** Whether the rows' orientation is known, so that the picture is final. */
  orientationKnown: boolean;
  /** The selection (JSON) whose values `slice` holds. */
  sliceKey: React.MutableRefObject<string | null>;
  chunks: IChunkRect[] | null;
  basemap: IBasemap | null;
  /** The clicked cell, marked on the map. */
  point: ICell | null;
  /** The title line: the variable and its long name; the time (slider positions). */
  heading: string;
  timeLabel: string;
  units: string;
  title: string;
  trans: TranslationBundle;
  /** The cell under the pointer; null outside the map or where no cell is drawn. */
  onHover: (cell: ICell | null) => void;
  onPick: (cell: ICell) => void;
  /** Told each time a slice's pixels are on the canvas, the right way up. */
  onDrawn?: () => void;
}

/**
 * The slice's cell at a point of the map given as fractions of its width and height
 * (0..1 from the top left); null off the map or where no cell is drawn.
 */
export function cellAtFraction(
  fx: number,
  fy: number,
  slice: Pick<Slice2D, 'rows' | 'cols'>,
  geo: IGeoView | null,
  flip: boolean
): ICell | null {
  if (!(fx >= 0 && fx < 1 && fy >= 0 && fy < 1)) {
    return null;
  }
  if (geo) {
    const [width, height] = geo.frame.pixels;
    const ll = pixelToLonLat(geo.frame, fx * width, fy * height);
    const k = ll ? geo.locator.locate(ll[0], ll[1]) : -1;
    return k < 0
      ? null
      : { row: Math.floor(k / slice.cols), col: k % slice.cols };
  }
  const y = Math.floor(fy * slice.rows);
  return {
    row: flip ? slice.rows - 1 - y : y,
    col: Math.floor(fx * slice.cols)
  };
}

function cellAt(
  event: React.MouseEvent<HTMLElement | SVGElement>,
  slice: Slice2D | null,
  geo: IGeoView | null,
  flip: boolean
): ICell | null {
  if (!slice) {
    return null;
  }
  const rect = event.currentTarget.getBoundingClientRect();
  return cellAtFraction(
    (event.clientX - rect.left) / rect.width,
    (event.clientY - rect.top) / rect.height,
    slice,
    geo,
    flip
  );
}

/** The CSS size of an element, kept up to date. */
function useSize(ref: React.RefObject<HTMLElement>): [number, number] {
  const [size, setSize] = useState<[number, number]>([0, 0]);
  useEffect(() => {
    const el = ref.current;
    if (!el) {
      return;
    }
    const observer = new ResizeObserver(() =>
      setSize([el.clientWidth, el.clientHeight])
    );
    observer.observe(el);
    return () => observer.disconnect();
  }, [ref]);
  return size;
}

/**
 * The map's canvases are kept in the page's memory (not the GPU's): the picture is
 * computed here and put whole, and the lines are drawn once per view. A GPU-backed
 * canvas only adds an upload per change and, where the browser rasterises in software
 * (no GPU, virtual desktops: SwiftShader), held the first time steps' frames back for
 * seconds (bench/bench_preview.py, issue 17).
 */
const CANVAS_OPTIONS: CanvasRenderingContext2DSettings = {
  willReadFrequently: true
};

/**
 * The 2-D context of an overlay canvas sized to `size` CSS pixels at the screen's
 * resolution, cleared; null before the canvas is laid out.
 */
function sizedContext(
  el: HTMLCanvasElement | null,
  size: [number, number]
): CanvasRenderingContext2D | null {
  if (!el || !size[0]) {
    return null;
  }
  const ratio = window.devicePixelRatio || 1;
  const width = Math.round(size[0] * ratio);
  const height = Math.round(size[1] * ratio);
  // Setting a canvas's size clears it; only when it changes (it reallocates it too).
  if (el.width !== width || el.height !== height) {
    el.width = width;
    el.height = height;
  }
  const ctx = el.getContext('2d', CANVAS_OPTIONS);
  ctx?.clearRect(0, 0, width, height);
  return ctx;
}

/** The name of JupyterLab's theme (it marks the body with it), kept up to date. */
function useTheme(): string {
  const [theme, setTheme] = useState(document.body.dataset.jpThemeName ?? '');
  useEffect(() => {
    const observer = new MutationObserver(() =>
      setTheme(document.body.dataset.jpThemeName ?? '')
    );
    observer.observe(document.body, {
      attributes: true,
      attributeFilter: ['data-jp-theme-name']
    });
    return () => observer.disconnect();
  }, []);
  return theme;
}

export function MapCanvas(props: IMapCanvasProps): JSX.Element {
  const {
    canvas,
    slice,
    limits,
    cmap,
    scale,
    flip,
    geo,
    orientationKnown,
    sliceKey,
    chunks,
    basemap,
    point,
    trans
  } = props;
  const [lo, hi] = [limits?.[0], limits?.[1]];
  const frameBox = useRef<HTMLDivElement>(null);
  const overlay = useRef<HTMLCanvasElement>(null);
  const markerCanvas = useRef<HTMLCanvasElement>(null);
  const size = useSize(frameBox);
  // The overlay's lines take the theme's text colour: redrawn when the theme changes.
  const theme = useTheme();

  useEffect(() => {
    const el = canvas.current;
    if (!el || !slice || !limits) {
      return;
    }
    const table = colormapTable(cmap);
    const [width, height] = geo ? geo.frame.pixels : [slice.cols, slice.rows];
    // putImageData replaces every pixel: the canvas is resized (and reallocated) only
    // when the picture's size changes, not at each time step.
    if (el.width !== width || el.height !== height) {
      el.width = width;
      el.height = height;
    }
    const ctx = el.getContext('2d', CANVAS_OPTIONS);
    if (!ctx) {
      return;
    }
    const pixels = geo
      ? renderIndexed(slice.values, geo.cells, limits, table, scale)
      : renderRGBA(
          slice.values,
          slice.rows,
          slice.cols,
          limits,
          table,
          flip,
          scale
        );
    ctx.putImageData(new ImageData(pixels, width, height), 0, 0);
    // What is on the canvas now, for the benchmarks (bench/preview_driver.mjs) and tests.
    if (orientationKnown) {
      el.dataset.renderedSelection = sliceKey.current ?? '';
      el.dataset.resolution = slice.overview?.level
        ? `level ${slice.overview.level.path} 1:${slice.overview.factor}`
        : slice.overview
          ? `overview 1:${slice.overview.factor}`
          : 'full';
      props.onDrawn?.();
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [slice, lo, hi, cmap, flip, scale, geo, orientationKnown]);

  const marker =
    point && geo
      ? geo.locator.centre(point.row * geo.locator.cols + point.col)
      : null;
  // The lines depend on the view alone: a new time step only repaints the data's canvas
  // above (redrawing 1:50m coastlines each step made a step take seconds where the
  // browser rasterises canvases in software).
  const frame = geo?.frame ?? null;
  useEffect(() => {
    const el = overlay.current;
    if (!el) {
      return;
    }
    const draw = (): void => {
      const ctx = sizedContext(el, size);
      if (!ctx) {
        return;
      }
      if (frame) {
        const ink = getComputedStyle(el)
          .getPropertyValue('--jp-ui-font-color0')
          .trim();
        drawOverlay(
          ctx,
          frame,
          el.width,
          el.height,
          window.devicePixelRatio || 1,
          basemap,
          ink || undefined
        );
      }
      el.dataset.coastlines = frame && basemap ? 'drawn' : 'none';
    };
    // After the next frame: the data's picture is painted first, the lines (projecting
    // the coastlines takes tens to hundreds of milliseconds the first time) follow.
    let timer = 0;
    const frameRequest = requestAnimationFrame(() => {
      timer = window.setTimeout(draw);
    });
    return () => {
      cancelAnimationFrame(frameRequest);
      clearTimeout(timer);
    };
  }, [frame, basemap, size, theme]);

  const rows = slice?.rows ?? 0;
  const cols = slice?.cols ?? 0;
  useEffect(() => {
    const ctx = sizedContext(markerCanvas.current, size);
    if (!ctx) {
      return;
    }
    const { width, height } = ctx.canvas;
    const ratio = window.devicePixelRatio || 1;
    if (frame && marker) {
      const at = canvasProjection(frame, width, height)(marker);
      if (at) {
        drawMarker(ctx, at[0], at[1], ratio, true);
      }
    } else if (!frame && point && rows && cols) {
      // On the grid's own pixels: the clicked cell's centre.
      const y = flip ? rows - 1 - point.row : point.row;
      drawMarker(
        ctx,
        ((point.col + 0.5) / cols) * width,
        ((y + 0.5) / rows) * height,
        ratio,
        false
      );
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [frame, size, marker?.[0], marker?.[1], point, rows, cols, flip]);

  const onMove = (event: React.MouseEvent<HTMLElement | SVGElement>): void =>
    props.onHover(cellAt(event, slice, geo, flip));
  const onClick = (event: React.MouseEvent<HTMLElement | SVGElement>): void => {
    const cell = cellAt(event, slice, geo, flip);
    if (cell) {
      props.onPick(cell);
    }
  };

  // The frame keeps the projection's true proportions (degrees on plate carrée).
  const ratio = geo
    ? geo.frame.box[2] / geo.frame.box[3]
    : slice
      ? slice.cols / slice.rows
      : 2;
  const polar = !!geo && geo.frame.rim !== null;
  const labels = geo ? axisLabels(geo.frame) : [];
  return (
    <figure
      className="jp-EspriVre-mapFigure"
      ref={props.figure as React.RefObject<HTMLElement>}
    >
      <figcaption className="jp-EspriVre-mapTitle">
        <span data-export-text="">{props.heading}</span>
        <span className="jp-EspriVre-mapTime" data-export-text="">
          {props.timeLabel}
        </span>
      </figcaption>
      <div className="jp-EspriVre-mapPlot">
        <div
          className={`jp-EspriVre-mapAxes${polar ? ' jp-mod-polar' : ''}${geo ? '' : ' jp-mod-grid'}`}
        >
          <div
            ref={frameBox}
            className="jp-EspriVre-previewMapFrame"
            style={{
              aspectRatio: String(ratio),
              width: `min(900px, ${Math.round(480 * ratio)}px)`
            }}
          >
            <canvas
              ref={canvas}
              className="jp-EspriVre-previewMap"
              data-projection={geo ? geo.frame.kind : 'grid'}
              onMouseMove={onMove}
              onMouseLeave={() => props.onHover(null)}
              onClick={onClick}
              title={props.title}
            />
            {chunks && slice && (
              <svg
                className="jp-EspriVre-chunkGrid"
                viewBox={`0 0 ${slice.cols} ${slice.rows}`}
                preserveAspectRatio="none"
                data-chunks={chunks.length}
                data-read={chunks.filter(c => c.read).length}
                onMouseMove={onMove}
                onMouseLeave={() => props.onHover(null)}
                onClick={onClick}
              >
                {chunks.map(c => (
                  <rect
                    key={c.key}
                    x={c.x}
                    y={c.y}
                    width={c.width}
                    height={c.height}
                    data-chunk={c.key}
                    className={c.read ? 'jp-mod-read' : undefined}
                  />
                ))}
              </svg>
            )}
            <canvas
              ref={overlay}
              className="jp-EspriVre-mapOverlay"
              aria-hidden="true"
            />
            <canvas
              ref={markerCanvas}
              className="jp-EspriVre-mapMarker"
              aria-hidden="true"
            />
            {labels.map(l => (
              <span
                key={`${l.axis}${l.value}`}
                className={`jp-EspriVre-mapAxisLabel jp-mod-${l.anchor}`}
                data-axis={l.axis}
                data-value={l.value}
                data-export-text=""
                style={{ left: `${l.fx * 100}%`, top: `${l.fy * 100}%` }}
              >
                {l.text}
              </span>
            ))}
          </div>
        </div>
        {limits && (
          <ColourBar
            limits={limits}
            scale={scale}
            cmap={cmap}
            units={props.units}
            trans={trans}
          />
        )}
      </div>
    </figure>
  );
}

/** The colours' scale beside the map: the limits at its ends, the variable's units. */
export function ColourBar(props: {
  limits: [number, number];
  scale: Scale;
  cmap: string;
  units: string;
  trans: TranslationBundle;
}): JSX.Element {
  const { limits, scale, cmap } = props;
  const ramp = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = ramp.current?.getContext('2d');
    if (!ctx) {
      return;
    }
    const table = colormapTable(cmap);
    const image = ctx.createImageData(1, 256);
    for (let i = 0; i < 256; i++) {
      // The upper limit's colour at the top.
      const t = (255 - i) * 3;
      image.data.set([table[t], table[t + 1], table[t + 2], 255], i * 4);
    }
    ctx.putImageData(image, 0, 0);
  }, [cmap]);
  return (
    <div
      className="jp-EspriVre-colourBar"
      data-lo={limits[0]}
      data-hi={limits[1]}
      data-scale={scale}
    >
      <span className="jp-EspriVre-colourBarUnits" data-export-text="">
        {props.units || props.trans.__('(no units)')}
      </span>
      <div className="jp-EspriVre-colourBarScale">
        <canvas
          ref={ramp}
          className="jp-EspriVre-colourBarRamp"
          width={1}
          height={256}
          aria-hidden="true"
        />
        {colourBarTicks(limits, scale).map(t => (
          <span
            key={t.position}
            className="jp-EspriVre-colourBarLabel"
            data-value={t.value}
            data-export-text=""
            style={{ bottom: `${t.position * 100}%` }}
          >
            {t.label}
          </span>
        ))}
      </div>
    </div>
  );
}

/** How many of the map's chunks were read, and what the chunk cache holds. */
export function ChunkSummary(props: {
  chunks: IChunkRect[];
  cache: { bytes: number; entries: number };
  trans: TranslationBundle;
}): JSX.Element {
  const { chunks, cache, trans } = props;
  return (
    <div className="jp-EspriVre-chunkSummary">
      {trans.__(
        '%1 of the %2 chunks of this map read; %3 kept in the cache (%4 chunks)',
        chunks.filter(c => c.read).length,
        chunks.length,
        formatBytes(cache.bytes),
        cache.entries
      )}
    </div>
  );
}

/**
 * The slice's statistics and the values the colours span; or why a log scale shows
 * nothing.
 */
export function ColourSummary(props: {
  trans: TranslationBundle;
  /** What the statistics are of when not the full slice. */
  overview?: IOverviewInfo;
  stats: Stats | null;
  limits: [number, number] | null;
  typedLimits: [number, number] | null;
  limitsError: string | null;
  scale: Scale;
}): JSX.Element {
  const { trans, stats, limits, scale, overview } = props;
  const of = overview?.level
    ? trans.__(
        'of multiscale level %1 (%2 × %3)',
        overview.level.path,
        overview.level.rows,
        overview.level.cols
      )
    : overview
      ? trans.__('of the overview 1:%1', overview.factor)
      : trans.__('of the full slice');
  return (
    <>
      {stats && limits && (
        <div
          className="jp-EspriVre-previewStats"
          data-min={stats.min}
          data-max={stats.max}
          data-mean={stats.mean}
          data-nan={stats.nanCount}
          data-lo={limits[0]}
          data-hi={limits[1]}
          data-scale={scale}
          data-of={
            overview?.level
              ? `level ${overview.level.path}`
              : overview
                ? 'overview'
                : 'full'
          }
        >
          {of}
          {': '}
          {trans.__(
            'min %1 · max %2 · mean %3 · missing %4',
            formatNumber(stats.min),
            formatNumber(stats.max),
            formatNumber(stats.mean),
            stats.nanCount
          )}
          {' · '}
          {props.typedLimits && !props.limitsError
            ? trans.__(
                'colours %1 to %2 (%3, set by you)',
                formatNumber(limits[0]),
                formatNumber(limits[1]),
                scale === 'log' ? trans.__('log scale') : trans.__('linear')
              )
            : trans.__(
                'colours %1 to %2 (%3, 2nd–98th percentile)',
                formatNumber(limits[0]),
                formatNumber(limits[1]),
                scale === 'log' ? trans.__('log scale') : trans.__('linear')
              )}
        </div>
      )}
      {stats && !limits && scale === 'log' && (
        <div className="jp-EspriVre-previewError">
          {trans.__(
            'No value of this map is positive: a log scale has nothing to show. Choose the linear scale.'
          )}
        </div>
      )}
    </>
  );
}
