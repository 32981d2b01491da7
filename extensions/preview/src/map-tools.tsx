/**
 * The map's tools: the sliders along the other dimensions (time first among them),
 * the plot of the series at a clicked point, PNG export and the actions that take the
 * view elsewhere (the notebook, the globe).
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';
import type { VariableInfo } from './axes';
import { formatBytes, formatNumber } from './format';
import type { ISeries } from './map-data';
import type { Transfer } from './reader';
import { colourBarTicks } from './colorbar';
import { finiteRange, seriesPolylines } from './series';

export interface ISliceSlidersProps {
  trans: TranslationBundle;
  variable: VariableInfo | undefined;
  /** The dimensions that are not on the map, one slider each. */
  sliderDims: string[];
  /** The time dimension, whose slider is the time slider. */
  timeDim: string | null;
  indices: Record<string, number>;
  onIndex: (dim: string, index: number) => void;
  /** The label of a slider's position (its coordinate value when known). */
  sliderLabel: (dim: string) => string;
  /** Whether the first slider takes the focus. */
  focus: boolean;
  seriesDim: string | null;
  onSeriesDim: (dim: string) => void;
  loading: boolean;
  transfer: Transfer;
}

/** The sliders, the dimension a click plots, and the reader's progress. */
export function SliceSliders(props: ISliceSlidersProps): JSX.Element {
  const { trans, variable, sliderDims, transfer } = props;
  return (
    <div className="jp-EspriVre-previewControls">
      {sliderDims.map((dim, k) => {
        const size = variable!.shape[variable!.dims.indexOf(dim)];
        const index = props.indices[dim] ?? 0;
        const isTime = dim === props.timeDim;
        return (
          <label key={dim} className="jp-EspriVre-previewSlider">
            <span>{dim}</span>
            <input
              type="range"
              className={
                isTime ? 'jp-EspriVre-timeSlider' : 'jp-EspriVre-dimSlider'
              }
              data-dim={dim}
              min={0}
              max={size - 1}
              value={index}
              aria-label={trans.__('Index along %1', dim)}
              autoFocus={k === 0 && props.focus}
              onChange={e => props.onIndex(dim, Number(e.target.value))}
            />
            <span
              className={
                isTime ? 'jp-EspriVre-timeLabel' : 'jp-EspriVre-dimLabel'
              }
            >
              {props.sliderLabel(dim)}
            </span>
          </label>
        );
      })}
      {sliderDims.length > 1 && (
        <label className="jp-EspriVre-previewSeriesDim">
          {trans.__('Series along')}
          <select
            value={props.seriesDim ?? ''}
            onChange={e => props.onSeriesDim(e.target.value)}
          >
            {sliderDims.map(d => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
        </label>
      )}
      <span className="jp-EspriVre-previewProgress" aria-live="polite">
        {props.loading || transfer.pending
          ? trans.__(
              'Loading chunks… %1 requests, %2 on their way',
              transfer.requests,
              transfer.pending
            )
          : trans.__(
              '%1 read in %2 requests',
              formatBytes(transfer.bytes),
              transfer.requests
            )}
      </span>
    </div>
  );
}

/**
 * The figure as it is displayed, on one canvas of its CSS size: its canvases (the map,
 * its overlay, the colour bar) where they are, and its texts marked `data-export-text`
 * (title, time, axes' labels, colour bar's labels and units) in their own font and colour.
 */
export function figureCanvas(figure: HTMLElement): HTMLCanvasElement {
  const box = figure.getBoundingClientRect();
  const out = document.createElement('canvas');
  out.width = Math.round(box.width);
  out.height = Math.round(box.height);
  const ctx = out.getContext('2d');
  if (!ctx) {
    throw new Error('No 2-D canvas context.');
  }
  const page = getComputedStyle(figure);
  ctx.fillStyle =
    page.backgroundColor && page.backgroundColor !== 'rgba(0, 0, 0, 0)'
      ? page.backgroundColor
      : 'white';
  ctx.fillRect(0, 0, out.width, out.height);
  for (const el of Array.from(figure.querySelectorAll('canvas'))) {
    const r = el.getBoundingClientRect();
    // The data's cells stay sharp squares, as on screen (image-rendering: pixelated).
    ctx.imageSmoothingEnabled = !el.classList.contains(
      'jp-EspriVre-previewMap'
    );
    if (el.width && el.height) {
      ctx.drawImage(el, r.left - box.left, r.top - box.top, r.width, r.height);
    }
  }
  ctx.textBaseline = 'middle';
  for (const el of Array.from(
    figure.querySelectorAll<HTMLElement>('[data-export-text]')
  )) {
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    ctx.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    ctx.fillStyle = style.color;
    ctx.fillText(
      el.textContent ?? '',
      r.left - box.left + parseFloat(style.paddingLeft || '0'),
      r.top - box.top + r.height / 2
    );
  }
  return out;
}

/**
 * Save the figure as displayed (map, coastlines, axes, colour bar, title, units and
 * time) as a PNG file.
 *
 * @param onError Told when the figure cannot be encoded.
 */
export function exportPng(
  figure: HTMLElement,
  filename: string,
  onError: () => void
): void {
  let canvas: HTMLCanvasElement;
  try {
    canvas = figureCanvas(figure);
  } catch {
    onError();
    return;
  }
  canvas.toBlob(blob => {
    if (!blob) {
      onError();
      return;
    }
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = filename;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }, 'image/png');
}

export interface IMapActionsBarProps {
  trans: TranslationBundle;
  /** Whether a slice is drawn. */
  drawn: boolean;
  onExport: () => void;
  /** Whether the dataset has a path or URL xarray could open. */
  hasOrigin: boolean;
  canOpenInNotebook: boolean;
  onOpenInNotebook: () => void;
  /** Why the globe cannot be used, or null. */
  globeProblem: string | null;
  /** Whether the map is on latitude and longitude. */
  geographic: boolean;
  onShowOnGlobe: () => void;
  notice: string;
}

/** Export PNG, Open in notebook, Show on globe, and what the last one did. */
export function MapActionsBar(props: IMapActionsBarProps): JSX.Element {
  const { trans, globeProblem, geographic } = props;
  return (
    <div className="jp-EspriVre-previewControls">
      <button
        type="button"
        className="jp-mod-styled jp-EspriVre-exportPng"
        disabled={!props.drawn}
        onClick={props.onExport}
      >
        {trans.__('Export PNG')}
      </button>
      <button
        type="button"
        className="jp-mod-styled jp-EspriVre-openInNotebook"
        disabled={!props.hasOrigin || !props.canOpenInNotebook}
        title={
          props.hasOrigin
            ? trans.__(
                'Insert the xarray code for this view into the current notebook, or copy it when no notebook is open'
              )
            : trans.__('This dataset has no path or URL xarray could open.')
        }
        onClick={props.onOpenInNotebook}
      >
        {trans.__('Open in notebook')}
      </button>
      <button
        type="button"
        className="jp-mod-styled jp-EspriVre-showOnGlobe"
        disabled={!!globeProblem || !geographic || !props.drawn}
        title={
          globeProblem ??
          (geographic
            ? trans.__('Show this map on the 3-D globe')
            : trans.__(
                'Only a map on latitude and longitude can go on the globe.'
              ))
        }
        onClick={props.onShowOnGlobe}
      >
        {trans.__('Show on globe')}
      </button>
      {globeProblem && (
        <span className="jp-EspriVre-previewHint">{globeProblem}</span>
      )}
      {props.notice && (
        <span className="jp-EspriVre-previewNotice" role="status">
          {props.notice}
        </span>
      )}
    </div>
  );
}

const PLOT_WIDTH = 600;
const PLOT_HEIGHT = 140;

/**
 * The series at a point as a line (gaps where values are missing), with its range and the
 * labels of its first and last steps.
 */
export function SeriesPlot(props: {
  series: ISeries;
  variable: string;
  units: string;
  trans: TranslationBundle;
  onClose: () => void;
}): JSX.Element {
  const { series, trans } = props;
  const range = finiteRange(series.values);
  const lines = seriesPolylines(series.values, PLOT_WIDTH, PLOT_HEIGHT);
  const n = series.values.length;
  const unit = props.units ? ` ${props.units}` : '';
  return (
    <figure
      className="jp-EspriVre-previewSeries"
      data-count={n}
      data-first={series.values[0]}
      data-last={series.values[n - 1]}
    >
      <figcaption>
        {trans.__(
          '%1 along %2 at %3',
          props.variable,
          series.dim,
          series.where
        )}{' '}
        <button type="button" className="jp-mod-styled" onClick={props.onClose}>
          {trans.__('Close')}
        </button>
      </figcaption>
      <div className="jp-EspriVre-previewSeriesPlot">
        <div className="jp-EspriVre-previewSeriesY">
          <span className="jp-EspriVre-previewSeriesUnits">{props.units}</span>
          {range &&
            colourBarTicks(range, 'linear', 3).map(t => (
              <span
                key={t.position}
                className="jp-EspriVre-previewSeriesTick"
                data-value={t.value}
                style={{ bottom: `${t.position * 100}%` }}
              >
                {t.label}
              </span>
            ))}
        </div>
        <svg
          viewBox={`0 0 ${PLOT_WIDTH} ${PLOT_HEIGHT}`}
          preserveAspectRatio="none"
          role="img"
          aria-label={trans.__('Series of %1 values', n)}
        >
          {lines.map((points, i) => (
            <polyline key={i} points={points} />
          ))}
        </svg>
      </div>
      <div className="jp-EspriVre-previewSeriesAxis">
        <span>{series.labels[0] ?? '0'}</span>
        <span>
          {range
            ? trans.__(
                '%1 to %2%3',
                formatNumber(range[0]),
                formatNumber(range[1]),
                unit
              )
            : trans.__('every value is missing')}
        </span>
        <span>{series.labels[n - 1] ?? String(n - 1)}</span>
      </div>
    </figure>
  );
}
