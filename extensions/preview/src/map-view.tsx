/**
 * The map of a 2-D slice of a gridded variable, with its variable list, sliders,
 * colour map picker, statistics and the value under the cursor.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import React, { useEffect, useMemo, useRef, useState } from 'react';
import {
  coordinateOf,
  dataVariables,
  findAxes,
  mapDims,
  type VariableInfo
} from './axes';
import { coordinateLabels } from './cf';
import {
  COLORMAPS,
  colormapTable,
  renderRGBA,
  robustLimits,
  statistics,
  type Stats
} from './colormap';
import {
  type Dataset,
  readDecoded,
  readSeries,
  readSlice,
  type Slice2D
} from './reader';
import { finiteRange, seriesPolylines, seriesSelection } from './series';
import { sliceSelection } from './slice';

export interface IMapViewProps {
  dataset: Dataset;
  trans: TranslationBundle;
  /** The variable to show first. */
  initialVariable?: string;
  initialColormap?: string;
}

interface ICoordinate {
  values: Float64Array;
  labels: string[];
}

export function MapView(props: IMapViewProps): JSX.Element {
  const { dataset, trans } = props;
  const candidates = useMemo(() => dataVariables(dataset.variables), [dataset]);
  const [name, setName] = useState<string>(
    candidates.find(v => v.name === props.initialVariable)?.name ??
      candidates[0]?.name ??
      ''
  );
  const variable = candidates.find(v => v.name === name);
  const axes = useMemo(
    () =>
      variable
        ? findAxes(variable, dataset.variables)
        : { lat: null, lon: null, time: null },
    [variable, dataset]
  );
  const dims = variable ? mapDims(variable, axes) : null;
  const [indices, setIndices] = useState<Record<string, number>>({});
  const [coords, setCoords] = useState<Record<string, ICoordinate>>({});
  const [cmap, setCmap] = useState(props.initialColormap ?? 'viridis');
  const [slice, setSlice] = useState<Slice2D | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [, setTick] = useState(0);
  const [hover, setHover] = useState<string>('');
  const [point, setPoint] = useState<{ row: number; col: number } | null>(null);
  const [series, setSeries] = useState<ISeries | null>(null);
  const canvas = useRef<HTMLCanvasElement>(null);

  // Progress: the reader counts requests; redraw when they change.
  useEffect(() => {
    const previous = dataset.onChange;
    dataset.onChange = () => setTick(t => t + 1);
    return () => {
      dataset.onChange = previous;
    };
  }, [dataset]);

  // The coordinate values of every dimension, for labels and orientation.
  useEffect(() => {
    if (!variable) {
      return;
    }
    const controller = new AbortController();
    void Promise.all(
      variable.dims.map(async dim => {
        const coord = coordinateOf(dim, dataset.variables);
        if (!coord || coords[dim]) {
          return null;
        }
        const { values } = await readDecoded(
          dataset,
          coord,
          null,
          controller.signal
        );
        return [
          dim,
          { values, labels: coordinateLabels(values, coord.attrs) }
        ] as const;
      })
    )
      .then(entries => {
        const found = entries.filter(e => e !== null);
        if (found.length) {
          setCoords(c => ({ ...c, ...Object.fromEntries(found) }));
        }
      })
      .catch(reason => {
        if (!controller.signal.aborted) {
          setError(
            trans.__(
              'The coordinates could not be read: %1',
              String(reason?.message ?? reason)
            )
          );
        }
      });
    return () => controller.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [variable, dataset]);

  const selection =
    variable && dims ? sliceSelection(variable.dims, dims, indices) : null;
  const selectionKey = JSON.stringify(selection);

  // Read the slice in view; moving on cancels the chunks still on their way.
  useEffect(() => {
    if (!variable || !selection) {
      return;
    }
    const controller = new AbortController();
    setLoading(true);
    setError(null);
    readSlice(dataset, variable, selection, controller.signal)
      .then(result => {
        setSlice(result);
        setLoading(false);
      })
      .catch(reason => {
        if (!controller.signal.aborted) {
          setLoading(false);
          setSlice(null);
          setError(
            trans.__(
              'The slice of %1 could not be read: %2. Try another time step or variable; if every slice fails, open the file in a notebook with xarray to check it.',
              variable.name,
              String(reason?.message ?? reason)
            )
          );
        }
      });
    return () => controller.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [variable, dataset, selectionKey]);

  // The dimension a click plots: the time axis when the map has one beside it, else the
  // first dimension with a slider.
  const seriesDim =
    variable && dims
      ? (variable.dims.find(d => d === axes.time && !dims.includes(d)) ??
        variable.dims.find(d => !dims.includes(d)) ??
        null)
      : null;
  const pointKey = JSON.stringify([point, selectionKey, seriesDim]);

  // Read the series at the clicked point (one value per step of seriesDim).
  useEffect(() => {
    if (!variable || !dims || !point || !seriesDim) {
      setSeries(null);
      return;
    }
    const controller = new AbortController();
    const at = { ...indices, [dims[0]]: point.row, [dims[1]]: point.col };
    readSeries(
      dataset,
      variable,
      seriesSelection(variable.dims, seriesDim, at),
      controller.signal
    )
      .then(values =>
        setSeries({
          values,
          dim: seriesDim,
          labels: coords[seriesDim]?.labels ?? [],
          where: [
            `${dims[0]} ${coords[dims[0]]?.labels[point.row] ?? point.row}`,
            `${dims[1]} ${coords[dims[1]]?.labels[point.col] ?? point.col}`
          ].join(', ')
        })
      )
      .catch(reason => {
        if (!controller.signal.aborted) {
          setSeries(null);
          setError(
            trans.__(
              'The series at this point could not be read: %1',
              String(reason?.message ?? reason)
            )
          );
        }
      });
    return () => controller.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [variable, dataset, pointKey]);

  const stats: Stats | null = useMemo(
    () => (slice ? statistics(slice.values) : null),
    [slice]
  );
  const limits = useMemo(
    () => (slice ? robustLimits(slice.values) : null),
    [slice]
  );
  const rowCoord = dims ? coords[dims[0]] : undefined;
  const flip =
    !!rowCoord &&
    rowCoord.values.length > 1 &&
    rowCoord.values[0] < rowCoord.values[1];

  useEffect(() => {
    const el = canvas.current;
    if (!el || !slice || !limits) {
      return;
    }
    el.width = slice.cols;
    el.height = slice.rows;
    const ctx = el.getContext('2d');
    if (!ctx) {
      return;
    }
    const pixels = renderRGBA(
      slice.values,
      slice.rows,
      slice.cols,
      limits,
      colormapTable(cmap),
      flip
    );
    ctx.putImageData(new ImageData(pixels, slice.cols, slice.rows), 0, 0);
  }, [slice, limits, cmap, flip]);

  if (!candidates.length) {
    return (
      <div className="jp-EspriVre-previewError" role="alert">
        {trans.__(
          'No variable here has two or more dimensions to draw as a map. The variables are listed below.'
        )}
        <VariableTable
          variables={dataset.variables}
          trans={trans}
          selected=""
          onSelect={() => undefined}
        />
      </div>
    );
  }

  /** The slice's cell under the pointer; null outside the map. */
  const cellAt = (
    event: React.MouseEvent<HTMLCanvasElement>
  ): { row: number; col: number } | null => {
    if (!slice) {
      return null;
    }
    const rect = event.currentTarget.getBoundingClientRect();
    const col = Math.floor(
      ((event.clientX - rect.left) / rect.width) * slice.cols
    );
    const shown = Math.floor(
      ((event.clientY - rect.top) / rect.height) * slice.rows
    );
    const row = flip ? slice.rows - 1 - shown : shown;
    if (col < 0 || col >= slice.cols || row < 0 || row >= slice.rows) {
      return null;
    }
    return { row, col };
  };

  const onMove = (event: React.MouseEvent<HTMLCanvasElement>): void => {
    const cell = cellAt(event);
    if (!slice || !dims || !cell) {
      setHover('');
      return;
    }
    const { row, col } = cell;
    const value = slice.values[row * slice.cols + col];
    const where = [
      `${dims[0]} ${coords[dims[0]]?.labels[row] ?? row}`,
      `${dims[1]} ${coords[dims[1]]?.labels[col] ?? col}`
    ].join(', ');
    const units =
      typeof variable?.attrs.units === 'string'
        ? ` ${variable.attrs.units}`
        : '';
    setHover(
      `${where}: ${Number.isNaN(value) ? trans.__('missing') : `${formatNumber(value)}${units}`}`
    );
  };

  const sliderDims =
    variable && dims ? variable.dims.filter(d => !dims.includes(d)) : [];

  return (
    <div className="jp-EspriVre-previewBody">
      <VariableTable
        variables={candidates}
        trans={trans}
        selected={name}
        onSelect={n => {
          setName(n);
          setSlice(null);
          setIndices({});
        }}
      />
      <div className="jp-EspriVre-previewControls">
        {sliderDims.map((dim, k) => {
          const size = variable!.shape[variable!.dims.indexOf(dim)];
          const index = indices[dim] ?? 0;
          const isTime = dim === axes.time;
          return (
            <label key={dim} className="jp-EspriVre-previewSlider">
              <span>{dim}</span>
              <input
                type="range"
                className={
                  isTime ? 'jp-EspriVre-timeSlider' : 'jp-EspriVre-dimSlider'
                }
                min={0}
                max={size - 1}
                value={index}
                aria-label={trans.__('Index along %1', dim)}
                autoFocus={k === 0}
                onChange={e =>
                  setIndices(i => ({ ...i, [dim]: Number(e.target.value) }))
                }
              />
              <span
                className={
                  isTime ? 'jp-EspriVre-timeLabel' : 'jp-EspriVre-dimLabel'
                }
              >
                {coords[dim]?.labels[index] ?? `${index}`}
              </span>
            </label>
          );
        })}
        <label className="jp-EspriVre-previewCmap">
          {trans.__('Colour map')}
          <select value={cmap} onChange={e => setCmap(e.target.value)}>
            {COLORMAPS.map(c => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <span className="jp-EspriVre-previewProgress" aria-live="polite">
          {loading || dataset.transfer.pending
            ? trans.__(
                'Loading chunks… %1 requests, %2 on their way',
                dataset.transfer.requests,
                dataset.transfer.pending
              )
            : trans.__(
                '%1 read in %2 requests',
                formatBytes(dataset.transfer.bytes),
                dataset.transfer.requests
              )}
        </span>
      </div>
      {error && (
        <div className="jp-EspriVre-previewError" role="alert">
          {error}
        </div>
      )}
      <div className="jp-EspriVre-previewMapBox">
        <canvas
          ref={canvas}
          className="jp-EspriVre-previewMap"
          onMouseMove={onMove}
          onMouseLeave={() => setHover('')}
          onClick={event => {
            const cell = cellAt(event);
            if (cell && seriesDim) {
              setPoint(cell);
            }
          }}
          title={
            seriesDim
              ? trans.__('Click to plot the series along %1 here', seriesDim)
              : ''
          }
        />
      </div>
      {series && (
        <SeriesPlot
          series={series}
          variable={variable?.name ?? ''}
          units={
            typeof variable?.attrs.units === 'string'
              ? variable.attrs.units
              : ''
          }
          trans={trans}
          onClose={() => setPoint(null)}
        />
      )}
      <div className="jp-EspriVre-previewHover">{hover || '\u00a0'}</div>
      {stats && limits && (
        <div
          className="jp-EspriVre-previewStats"
          data-min={stats.min}
          data-max={stats.max}
          data-mean={stats.mean}
          data-nan={stats.nanCount}
        >
          {trans.__(
            'min %1 · max %2 · mean %3 · missing %4 · colours %5 to %6 (2nd–98th percentile)',
            formatNumber(stats.min),
            formatNumber(stats.max),
            formatNumber(stats.mean),
            stats.nanCount,
            formatNumber(limits[0]),
            formatNumber(limits[1])
          )}
        </div>
      )}
    </div>
  );
}

function VariableTable(props: {
  variables: readonly VariableInfo[];
  trans: TranslationBundle;
  selected: string;
  onSelect: (name: string) => void;
}): JSX.Element {
  const { trans } = props;
  return (
    <table className="jp-EspriVre-previewVariables">
      <thead>
        <tr>
          <th>{trans.__('Variable')}</th>
          <th>{trans.__('Dimensions')}</th>
          <th>{trans.__('Shape')}</th>
          <th>{trans.__('Type')}</th>
          <th>{trans.__('Long name')}</th>
          <th>{trans.__('Units')}</th>
        </tr>
      </thead>
      <tbody>
        {props.variables.map(v => (
          <tr
            key={v.name}
            className={
              v.name === props.selected ? 'jp-mod-selected' : undefined
            }
            aria-selected={v.name === props.selected}
            tabIndex={0}
            onClick={() => props.onSelect(v.name)}
            onKeyDown={e => {
              if (e.key === 'Enter' || e.key === ' ') {
                props.onSelect(v.name);
              }
            }}
          >
            <td>{v.name}</td>
            <td>{v.dims.join(', ')}</td>
            <td>{v.shape.join(' × ')}</td>
            <td>{v.dtype}</td>
            <td>{String(v.attrs.long_name ?? '')}</td>
            <td>{String(v.attrs.units ?? '')}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The series a click on the map asked for. */
interface ISeries {
  values: Float64Array;
  dim: string;
  labels: string[];
  where: string;
}

const PLOT_WIDTH = 600;
const PLOT_HEIGHT = 140;

/**
 * The series at a point as a line (gaps where values are missing), with its range and the
 * labels of its first and last steps.
 */
function SeriesPlot(props: {
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

export function formatNumber(v: number): string {
  if (Number.isNaN(v)) {
    return 'NaN';
  }
  return Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3)
    ? v.toExponential(4)
    : String(+v.toPrecision(6));
}

function formatBytes(n: number): string {
  if (n < 1024) {
    return `${n} B`;
  }
  if (n < 1024 * 1024) {
    return `${(n / 1024).toFixed(1)} KiB`;
  }
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
