/**
 * The map of a 2-D slice of a gridded variable, with its variable list, sliders,
 * colour map, scale and limits, statistics, the value under the cursor, the series at
 * a clicked point, the chunk-grid overlay, PNG export, xarray code and "Show on globe".
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import React, { useEffect, useMemo, useRef, useState } from 'react';
import {
  coordinateOf,
  dataVariables,
  findAxes,
  findCurvilinear,
  mapDims,
  type VariableInfo
} from './axes';
import { coordinateLabels } from './cf';
import { chunkRects } from './chunk-grid';
import type { ICodeRequest, IDatasetOrigin } from './code';
import {
  COLORMAPS,
  colormapTable,
  limitsProblem,
  renderIndexed,
  renderRGBA,
  robustLimits,
  robustLogLimits,
  type Scale,
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
import { type IRegridded, regriddedValues, regridNearest } from './regrid';
import { finiteRange, seriesPolylines, seriesSelection } from './series';
import { sliceSelection } from './slice';

/** A regular lat/lon field as the globe's `espri-vre:globe-add-field` command takes it. */
export interface IGlobeField {
  title: string;
  lon: number[];
  lat: number[];
  /** Row-major (lat, lon); null where missing. */
  values: (number | null)[];
  colormap: 'viridis' | 'rdbu';
  min: number;
  max: number;
}

/** What the view can do outside itself; the widget provides them. */
export interface IMapActions {
  /** Put the xarray code in the current notebook, or copy it; says which it did. */
  openInNotebook?: (
    request: Omit<ICodeRequest, 'notebookPath'>
  ) => Promise<string>;
  /** Why the globe cannot be used (its extension absent), or null when it can. */
  globeUnavailable?: () => string | null;
  showOnGlobe?: (field: IGlobeField) => Promise<void>;
}

export interface IMapViewProps {
  dataset: Dataset;
  trans: TranslationBundle;
  /** The variable to show first. */
  initialVariable?: string;
  initialColormap?: string;
  /** Where the dataset is, for the xarray code. */
  origin?: IDatasetOrigin;
  actions?: IMapActions;
  /**
   * Whether the first slider takes the focus (not in a notebook output, where the
   * keyboard stays with the notebook).
   */
  focusSlider?: boolean;
}

interface ICoordinate {
  values: Float64Array;
  labels: string[];
}

/** A curvilinear grid's 2-D coordinates and the regular picture drawn from them. */
interface ICurvilinearGrid {
  variable: string;
  lat: Float64Array;
  lon: Float64Array;
  grid: IRegridded;
}

/** The globe's colour map closest to the preview's. */
const GLOBE_COLORMAP: Record<string, 'viridis' | 'rdbu'> = {
  viridis: 'viridis',
  cividis: 'viridis',
  RdBu_r: 'rdbu'
};

export function MapView(props: IMapViewProps): JSX.Element {
  const { dataset, trans, actions = {} } = props;
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
  const curvilinear = useMemo(
    () =>
      variable && !(axes.lat && axes.lon)
        ? findCurvilinear(variable, dataset.variables)
        : null,
    [variable, axes, dataset]
  );
  const dims = variable ? mapDims(variable, axes, curvilinear) : null;
  const [indices, setIndices] = useState<Record<string, number>>({});
  const [coords, setCoords] = useState<Record<string, ICoordinate>>({});
  const [curvGrid, setCurvGrid] = useState<ICurvilinearGrid | null>(null);
  const [projection, setProjection] = useState<'latlon' | 'grid'>('latlon');
  const [cmap, setCmap] = useState(props.initialColormap ?? 'viridis');
  const [scale, setScale] = useState<Scale>('linear');
  const [userLimits, setUserLimits] = useState<[string, string]>(['', '']);
  const [showChunks, setShowChunks] = useState(false);
  const [slice, setSlice] = useState<Slice2D | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string>('');
  const [loading, setLoading] = useState(false);
  const [, setTick] = useState(0);
  const [hover, setHover] = useState<string>('');
  const [point, setPoint] = useState<{ row: number; col: number } | null>(null);
  const [seriesChoice, setSeriesChoice] = useState<string | null>(null);
  const [series, setSeries] = useState<ISeries | null>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  /** The selection (JSON) whose values `slice` holds. */
  const sliceKey = useRef<string | null>(null);

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

  // A curvilinear grid's 2-D latitude and longitude, and the regular picture of them.
  useEffect(() => {
    if (!variable || !curvilinear) {
      setCurvGrid(null);
      return;
    }
    if (curvGrid?.variable === variable.name) {
      return;
    }
    const controller = new AbortController();
    void Promise.all([
      readDecoded(dataset, curvilinear.lat, null, controller.signal),
      readDecoded(dataset, curvilinear.lon, null, controller.signal)
    ])
      .then(([lat, lon]) => {
        const [rows, cols] = curvilinear.lat.shape;
        setCurvGrid({
          variable: variable.name,
          lat: lat.values,
          lon: lon.values,
          grid: regridNearest(lat.values, lon.values, rows, cols)
        });
      })
      .catch(reason => {
        if (!controller.signal.aborted) {
          setError(
            trans.__(
              'The 2-D latitude and longitude of %1 could not be read: %2',
              variable.name,
              String(reason?.message ?? reason)
            )
          );
        }
      });
    return () => controller.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [variable, curvilinear, dataset]);

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
        sliceKey.current = selectionKey;
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

  const sliderDims =
    variable && dims ? variable.dims.filter(d => !dims.includes(d)) : [];
  // The dimension a click plots: the one chosen, else the time axis, else the first
  // dimension with a slider.
  const seriesDim =
    (seriesChoice && sliderDims.includes(seriesChoice) ? seriesChoice : null) ??
    sliderDims.find(d => d === axes.time) ??
    sliderDims[0] ??
    null;
  const pointKey = JSON.stringify([point, selectionKey, seriesDim]);

  /** "lat 12 degrees_north, lon 30 degrees_east" for a cell of the slice. */
  const describeCell = (row: number, col: number): string => {
    if (!dims) {
      return '';
    }
    if (curvGrid && slice) {
      const k = row * slice.cols + col;
      return trans.__(
        'lat %1, lon %2 (%3 %4, %5 %6)',
        formatNumber(curvGrid.lat[k]),
        formatNumber(curvGrid.lon[k]),
        dims[0],
        row,
        dims[1],
        col
      );
    }
    return [
      `${dims[0]} ${coords[dims[0]]?.labels[row] ?? row}`,
      `${dims[1]} ${coords[dims[1]]?.labels[col] ?? col}`
    ].join(', ');
  };

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
          where: describeCell(point.row, point.col)
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
  const autoLimits = useMemo(
    () =>
      slice
        ? scale === 'log'
          ? robustLogLimits(slice.values)
          : robustLimits(slice.values)
        : null,
    [slice, scale]
  );
  const typedLimits: [number, number] | null =
    userLimits[0].trim() !== '' || userLimits[1].trim() !== ''
      ? [
          userLimits[0].trim() === ''
            ? (autoLimits?.[0] ?? NaN)
            : Number(userLimits[0]),
          userLimits[1].trim() === ''
            ? (autoLimits?.[1] ?? NaN)
            : Number(userLimits[1])
        ]
      : null;
  const limitsError = typedLimits ? limitsProblem(typedLimits, scale) : null;
  const limits: [number, number] | null =
    typedLimits && !limitsError ? typedLimits : autoLimits;
  const rowCoord = dims ? coords[dims[0]] : undefined;
  const flip =
    !!rowCoord &&
    rowCoord.values.length > 1 &&
    rowCoord.values[0] < rowCoord.values[1];
  const regridded =
    curvGrid && projection === 'latlon' && slice ? curvGrid.grid : null;
  // The rows are drawn the right way up once the row coordinate is read (or there is none).
  const orientationKnown =
    !dims || !!rowCoord || !coordinateOf(dims[0], dataset.variables);
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

  /** The slice's cell under the pointer; null outside the map or where no cell is drawn. */
  const cellAt = (
    event: React.MouseEvent<HTMLElement | SVGElement>
  ): { row: number; col: number } | null => {
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
  };

  const onMove = (event: React.MouseEvent<HTMLElement | SVGElement>): void => {
    const cell = cellAt(event);
    if (!slice || !dims || !cell) {
      setHover('');
      return;
    }
    const { row, col } = cell;
    const value = slice.values[row * slice.cols + col];
    const units =
      typeof variable?.attrs.units === 'string'
        ? ` ${variable.attrs.units}`
        : '';
    setHover(
      `${describeCell(row, col)}: ${Number.isNaN(value) ? trans.__('missing') : `${formatNumber(value)}${units}`}`
    );
  };

  const onClick = (event: React.MouseEvent<HTMLElement | SVGElement>): void => {
    const cell = cellAt(event);
    if (cell && seriesDim) {
      setPoint(cell);
    }
  };

  const sliderLabel = (dim: string): string =>
    coords[dim]?.labels[indices[dim] ?? 0] ?? String(indices[dim] ?? 0);

  const exportPng = (): void => {
    const el = canvas.current;
    if (!el || !variable) {
      return;
    }
    const parts = [
      variable.name,
      ...sliderDims.map(d => `${d}-${sliderLabel(d)}`)
    ];
    const filename = `${parts.join('_').replace(/[^\w.-]+/g, '-')}.png`;
    el.toBlob(blob => {
      if (!blob) {
        setError(trans.__('The map could not be turned into a PNG image.'));
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
  };

  const codeRequest = (): Omit<ICodeRequest, 'notebookPath'> | null => {
    if (!variable || !props.origin) {
      return null;
    }
    const isel: Record<string, number> = {};
    for (const d of sliderDims) {
      isel[d] = indices[d] ?? 0;
    }
    return {
      origin: props.origin,
      variable: variable.name,
      isel,
      series:
        series && point && dims && seriesDim
          ? {
              dim: seriesDim,
              at: { [dims[0]]: point.row, [dims[1]]: point.col }
            }
          : undefined
    };
  };

  const globeField = (): IGlobeField | string => {
    if (!slice || !limits || !variable || !dims) {
      return trans.__('The map is not drawn yet.');
    }
    let lat: ArrayLike<number>;
    let lon: ArrayLike<number>;
    let values: ArrayLike<number>;
    if (curvGrid) {
      lat = curvGrid.grid.lat;
      lon = curvGrid.grid.lon;
      values = regriddedValues(slice.values, curvGrid.grid);
    } else if (axes.lat && axes.lon && coords[axes.lat] && coords[axes.lon]) {
      lat = coords[axes.lat].values;
      lon = coords[axes.lon].values;
      values = slice.values;
    } else {
      return trans.__(
        'Only a map on latitude and longitude can go on the globe: %1 is on %2.',
        variable.name,
        dims.join(' × ')
      );
    }
    return {
      title: [variable.name, ...sliderDims.map(sliderLabel)].join(' '),
      lat: Array.from(lat),
      lon: Array.from(lon),
      values: Array.from(values, v => (Number.isFinite(v) ? v : null)),
      colormap: GLOBE_COLORMAP[cmap] ?? 'viridis',
      min: limits[0],
      max: limits[1]
    };
  };
  const globeProblem =
    actions.globeUnavailable?.() ??
    (actions.showOnGlobe ? null : trans.__('The globe is not available here.'));
  const geographic = !!curvGrid || !!(axes.lat && axes.lon);

  const chunkOverlay =
    showChunks && slice && variable && selection && !regridded
      ? chunkRects(
          variable.shape,
          variable.chunks,
          selection,
          dataset.readChunks.get(variable.name) ?? new Set(),
          flip
        )
      : null;

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
          setPoint(null);
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
                data-dim={dim}
                min={0}
                max={size - 1}
                value={index}
                aria-label={trans.__('Index along %1', dim)}
                autoFocus={k === 0 && props.focusSlider !== false}
                onChange={e =>
                  setIndices(i => ({ ...i, [dim]: Number(e.target.value) }))
                }
              />
              <span
                className={
                  isTime ? 'jp-EspriVre-timeLabel' : 'jp-EspriVre-dimLabel'
                }
              >
                {sliderLabel(dim)}
              </span>
            </label>
          );
        })}
        {sliderDims.length > 1 && (
          <label className="jp-EspriVre-previewSeriesDim">
            {trans.__('Series along')}
            <select
              value={seriesDim ?? ''}
              onChange={e => setSeriesChoice(e.target.value)}
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
      <div className="jp-EspriVre-previewControls">
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
        <label className="jp-EspriVre-previewScale">
          {trans.__('Scale')}
          <select
            value={scale}
            onChange={e => setScale(e.target.value as Scale)}
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
            onChange={e => setUserLimits([e.target.value, userLimits[1]])}
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
            onChange={e => setUserLimits([userLimits[0], e.target.value])}
          />
        </label>
        <button
          type="button"
          className="jp-mod-styled"
          disabled={!typedLimits}
          onClick={() => setUserLimits(['', ''])}
          title={trans.__('Back to the 2nd and 98th percentiles')}
        >
          {trans.__('Auto limits')}
        </button>
        {curvilinear && (
          <label className="jp-EspriVre-previewProjection">
            {trans.__('Draw on')}
            <select
              value={projection}
              onChange={e => setProjection(e.target.value as 'latlon' | 'grid')}
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
            checked={showChunks}
            disabled={!!regridded}
            onChange={e => setShowChunks(e.target.checked)}
          />
          {trans.__('Chunk grid')}
        </label>
      </div>
      <div className="jp-EspriVre-previewControls">
        <button
          type="button"
          className="jp-mod-styled jp-EspriVre-exportPng"
          disabled={!slice}
          onClick={exportPng}
        >
          {trans.__('Export PNG')}
        </button>
        <button
          type="button"
          className="jp-mod-styled jp-EspriVre-openInNotebook"
          disabled={!props.origin || !actions.openInNotebook}
          title={
            props.origin
              ? trans.__(
                  'Insert the xarray code for this view into the current notebook, or copy it when no notebook is open'
                )
              : trans.__('This dataset has no path or URL xarray could open.')
          }
          onClick={() => {
            const request = codeRequest();
            if (request && actions.openInNotebook) {
              actions
                .openInNotebook(request)
                .then(setNotice)
                .catch(reason =>
                  setError(String((reason as Error)?.message ?? reason))
                );
            }
          }}
        >
          {trans.__('Open in notebook')}
        </button>
        <button
          type="button"
          className="jp-mod-styled jp-EspriVre-showOnGlobe"
          disabled={!!globeProblem || !geographic || !slice}
          title={
            globeProblem ??
            (geographic
              ? trans.__('Show this map on the 3-D globe')
              : trans.__(
                  'Only a map on latitude and longitude can go on the globe.'
                ))
          }
          onClick={() => {
            const field = globeField();
            if (typeof field === 'string') {
              setError(field);
              return;
            }
            actions
              .showOnGlobe?.(field)
              .then(() =>
                setNotice(trans.__('%1 is on the globe.', field.title))
              )
              .catch(reason =>
                setError(
                  trans.__(
                    'The globe could not show this map: %1',
                    String((reason as Error)?.message ?? reason)
                  )
                )
              );
          }}
        >
          {trans.__('Show on globe')}
        </button>
        {globeProblem && (
          <span className="jp-EspriVre-previewHint">{globeProblem}</span>
        )}
        {notice && (
          <span className="jp-EspriVre-previewNotice" role="status">
            {notice}
          </span>
        )}
      </div>
      {error && (
        <div className="jp-EspriVre-previewError" role="alert">
          {error}
        </div>
      )}
      {limitsError && (
        <div className="jp-EspriVre-previewError jp-EspriVre-limitsError">
          {trans.__('%1 The colours use the automatic limits.', limitsError)}
        </div>
      )}
      <div className="jp-EspriVre-previewMapBox">
        <div className="jp-EspriVre-previewMapFrame">
          <canvas
            ref={canvas}
            className="jp-EspriVre-previewMap"
            data-projection={regridded ? 'latlon' : 'grid'}
            onMouseMove={onMove}
            onMouseLeave={() => setHover('')}
            onClick={onClick}
            title={
              seriesDim
                ? trans.__('Click to plot the series along %1 here', seriesDim)
                : ''
            }
          />
          {chunkOverlay && slice && (
            <svg
              className="jp-EspriVre-chunkGrid"
              viewBox={`0 0 ${slice.cols} ${slice.rows}`}
              preserveAspectRatio="none"
              data-chunks={chunkOverlay.length}
              data-read={chunkOverlay.filter(c => c.read).length}
              onMouseMove={onMove}
              onMouseLeave={() => setHover('')}
              onClick={onClick}
            >
              {chunkOverlay.map(c => (
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
      {chunkOverlay && (
        <div className="jp-EspriVre-chunkSummary">
          {trans.__(
            '%1 of the %2 chunks of this map read; %3 kept in the cache (%4 chunks)',
            chunkOverlay.filter(c => c.read).length,
            chunkOverlay.length,
            formatBytes(dataset.cache.stats.bytes),
            dataset.cache.stats.entries
          )}
        </div>
      )}
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
          {typedLimits && !limitsError
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
