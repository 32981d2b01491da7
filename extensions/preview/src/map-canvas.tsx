/**
 * The painting of the map: the canvas coloured from the slice (on the model grid or
 * regridded to latitude/longitude), the chunk-grid overlay, the colour controls, and
 * the statistics line that says which colours mean which values.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import React, { useEffect } from 'react';
import type { IChunkRect } from './chunk-grid';
import {
  COLORMAPS,
  colormapTable,
  renderIndexed,
  renderRGBA,
  type Scale,
  type Stats
} from './colormap';
import { formatBytes, formatNumber } from './format';
import type { ICell } from './map-data';
import type { Slice2D } from './reader';
import type { IRegridded } from './regrid';

export interface IMapCanvasProps {
  canvas: React.RefObject<HTMLCanvasElement>;
  slice: Slice2D | null;
  limits: [number, number] | null;
  cmap: string;
  scale: Scale;
  /** Draw the first row at the bottom (the row coordinate increases). */
  flip: boolean;
  /** A curvilinear grid's picture on latitude/longitude; null draws the grid itself. */
  regridded: IRegridded | null;
  /** Whether the rows' orientation is known, so that the picture is final. */
  orientationKnown: boolean;
  /** The selection (JSON) whose values `slice` holds. */
  sliceKey: React.MutableRefObject<string | null>;
  chunks: IChunkRect[] | null;
  title: string;
  /** The cell under the pointer; null outside the map or where no cell is drawn. */
  onHover: (cell: ICell | null) => void;
  onPick: (cell: ICell) => void;
}

/** The slice's cell under the pointer; null outside the map or where no cell is drawn. */
export function cellAt(
  event: React.MouseEvent<HTMLElement | SVGElement>,
  slice: Slice2D | null,
  regridded: IRegridded | null,
  flip: boolean
): ICell | null {
  if (!slice) {
    return null;
  }
  const rect = event.currentTarget.getBoundingClientRect();
  const width = regridded ? regridded.width : slice.cols;
  const height = regridded ? regridded.height : slice.rows;
  const x = Math.floor(((event.clientX - rect.left) / rect.width) * width);
  const y = Math.floor(((event.clientY - rect.top) / rect.height) * height);
  if (x < 0 || x >= width || y < 0 || y >= height) {
    return null;
  }
  if (regridded) {
    const k = regridded.index[y * width + x];
    return k < 0
      ? null
      : { row: Math.floor(k / slice.cols), col: k % slice.cols };
  }
  return { row: flip ? slice.rows - 1 - y : y, col: x };
}

export function MapCanvas(props: IMapCanvasProps): JSX.Element {
  const {
    canvas,
    slice,
    limits,
    cmap,
    scale,
    flip,
    regridded,
    orientationKnown,
    sliceKey,
    chunks
  } = props;
  const [lo, hi] = [limits?.[0], limits?.[1]];

  useEffect(() => {
    const el = canvas.current;
    if (!el || !slice || !limits) {
      return;
    }
    const table = colormapTable(cmap);
    const width = regridded ? regridded.width : slice.cols;
    const height = regridded ? regridded.height : slice.rows;
    el.width = width;
    el.height = height;
    const ctx = el.getContext('2d');
    if (!ctx) {
      return;
    }
    const pixels = regridded
      ? renderIndexed(slice.values, regridded.index, limits, table, scale)
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
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [slice, lo, hi, cmap, flip, scale, regridded, orientationKnown]);

  const onMove = (event: React.MouseEvent<HTMLElement | SVGElement>): void =>
    props.onHover(cellAt(event, slice, regridded, flip));
  const onClick = (event: React.MouseEvent<HTMLElement | SVGElement>): void => {
    const cell = cellAt(event, slice, regridded, flip);
    if (cell) {
      props.onPick(cell);
    }
  };

  return (
    <div className="jp-EspriVre-previewMapBox">
      <div className="jp-EspriVre-previewMapFrame">
        <canvas
          ref={canvas}
          className="jp-EspriVre-previewMap"
          data-projection={regridded ? 'latlon' : 'grid'}
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

export interface IColourControlsProps {
  trans: TranslationBundle;
  cmap: string;
  onCmap: (cmap: string) => void;
  scale: Scale;
  onScale: (scale: Scale) => void;
  autoLimits: [number, number] | null;
  /** The limits as typed (min, max); blank for automatic. */
  userLimits: [string, string];
  onUserLimits: (limits: [string, string]) => void;
  typedLimits: [number, number] | null;
  limitsError: string | null;
  /** Whether the variable is on a curvilinear grid (it can then be regridded). */
  curvilinear: boolean;
  projection: 'latlon' | 'grid';
  onProjection: (projection: 'latlon' | 'grid') => void;
  /** Whether the map is regridded (the chunk grid cannot be drawn then). */
  regridded: boolean;
  showChunks: boolean;
  onShowChunks: (show: boolean) => void;
}

/** Colour map, scale, limits, projection and chunk grid. */
export function ColourControls(props: IColourControlsProps): JSX.Element {
  const { trans, autoLimits, userLimits, limitsError, regridded } = props;
  return (
    <div className="jp-EspriVre-previewControls">
      <label className="jp-EspriVre-previewCmap">
        {trans.__('Colour map')}
        <select value={props.cmap} onChange={e => props.onCmap(e.target.value)}>
          {COLORMAPS.map(c => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      </label>
      <label className="jp-EspriVre-previewScale">
        {trans.__('Scale')}
        <select
          value={props.scale}
          onChange={e => props.onScale(e.target.value as Scale)}
        >
          <option value="linear">{trans.__('linear')}</option>
          <option value="log">{trans.__('log')}</option>
        </select>
      </label>
      <label className="jp-EspriVre-previewLimit">
        {trans.__('Min')}
        <input
          type="text"
          inputMode="decimal"
          size={9}
          className="jp-EspriVre-limitMin"
          placeholder={autoLimits ? formatNumber(autoLimits[0]) : ''}
          value={userLimits[0]}
          aria-invalid={!!limitsError}
          onChange={e => props.onUserLimits([e.target.value, userLimits[1]])}
        />
      </label>
      <label className="jp-EspriVre-previewLimit">
        {trans.__('Max')}
        <input
          type="text"
          inputMode="decimal"
          size={9}
          className="jp-EspriVre-limitMax"
          placeholder={autoLimits ? formatNumber(autoLimits[1]) : ''}
          value={userLimits[1]}
          aria-invalid={!!limitsError}
          onChange={e => props.onUserLimits([userLimits[0], e.target.value])}
        />
      </label>
      <button
        type="button"
        className="jp-mod-styled"
        disabled={!props.typedLimits}
        onClick={() => props.onUserLimits(['', ''])}
        title={trans.__('Back to the 2nd and 98th percentiles')}
      >
        {trans.__('Auto limits')}
      </button>
      {props.curvilinear && (
        <label className="jp-EspriVre-previewProjection">
          {trans.__('Draw on')}
          <select
            value={props.projection}
            onChange={e =>
              props.onProjection(e.target.value as 'latlon' | 'grid')
            }
          >
            <option value="latlon">{trans.__('latitude/longitude')}</option>
            <option value="grid">{trans.__('the model grid')}</option>
          </select>
        </label>
      )}
      <label
        className="jp-EspriVre-previewChunkToggle"
        title={
          regridded
            ? trans.__(
                'The chunk grid is drawn on the model grid: choose "the model grid".'
              )
            : trans.__(
                'Outline the chunks of this map; the ones read are filled'
              )
        }
      >
        <input
          type="checkbox"
          checked={props.showChunks}
          disabled={regridded}
          onChange={e => props.onShowChunks(e.target.checked)}
        />
        {trans.__('Chunk grid')}
      </label>
    </div>
  );
}

/**
 * The slice's statistics and the values the colours span; or why a log scale shows
 * nothing.
 */
export function ColourSummary(props: {
  trans: TranslationBundle;
  stats: Stats | null;
  limits: [number, number] | null;
  typedLimits: [number, number] | null;
  limitsError: string | null;
  scale: Scale;
}): JSX.Element {
  const { trans, stats, limits, scale } = props;
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
        >
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
