/**
 * The map of a 2-D slice of a gridded variable, with its variable list, sliders,
 * colour map, scale and limits, statistics, the value under the cursor, the series at
 * a clicked point, the chunk-grid overlay, PNG export, xarray code and "Show on globe".
 * Its data come from the hooks of `map-data.ts`, its painting from `map-canvas.tsx`
 * (projections from `projection.ts`, coastlines from `coastlines.ts`), its controls
 * from `map-controls.tsx` and its tools from `map-tools.tsx`: this component holds the
 * user's choices and wires them together.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import React, { useEffect, useMemo, useRef, useState } from 'react';
import {
  coordinateOf,
  dataVariables,
  findAxes,
  findCurvilinear,
  findRotatedPole,
  mapDims
} from './axes';
import { chunkRects } from './chunk-grid';
import { type ICodeRequest, type IDatasetOrigin, openedAs } from './code';
import type { Scale } from './colormap';
import { formatNumber } from './format';
import { ChunkSummary, ColourSummary, MapCanvas } from './map-canvas';
import { ColourControls } from './map-controls';
import { levelSpacing } from './multiscales';
import { OverviewBadge } from './overview-badge';
import {
  type ICell,
  useBasemap,
  useColourLimits,
  useCoordinates,
  useCurvilinearGrid,
  useExactCells,
  prefetch,
  readSide,
  useGeoView,
  useLocator,
  useSeries,
  useSlice,
  useTransferProgress
} from './map-data';
import {
  exportPng,
  MapActionsBar,
  SeriesPlot,
  SliceSliders
} from './map-tools';
import type { LonConvention, ProjectionKind } from './projection';
import type { Dataset } from './reader';
import { regriddedValues } from './regrid';
import { sliceSelection } from './slice';
import { VariableTable } from './variable-table';

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
  /** The slice to show first (an index per dimension), as a reload restores it. */
  initialIndices?: Readonly<Record<string, number>>;
  /** Told of the variable and the slice shown, each time they change. */
  onSelectionChange?: (
    variable: string,
    indices: Record<string, number>
  ) => void;
  initialColormap?: string;
  /** Where the dataset is, for the xarray code. */
  origin?: IDatasetOrigin;
  actions?: IMapActions;
  /** Draw the first slice on the globe as soon as it is read ("Show on Globe" of a file). */
  showOnGlobeOnceDrawn?: boolean;
  /**
   * Whether the first slider takes the focus (not in a notebook output, where the
   * keyboard stays with the notebook).
   */
  focusSlider?: boolean;
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
        ? (findCurvilinear(variable, dataset.variables) ??
          findRotatedPole(variable, dataset.variables))
        : null,
    [variable, axes, dataset]
  );
  const dims = variable ? mapDims(variable, axes, curvilinear) : null;
  const [indices, setIndices] = useState<Record<string, number>>({
    ...props.initialIndices
  });
  const { onSelectionChange } = props;
  useEffect(
    () => onSelectionChange?.(name, indices),
    [name, indices, onSelectionChange]
  );
  const [projection, setProjection] = useState<'latlon' | 'grid'>('latlon');
  const [mapProjection, setMapProjection] = useState<ProjectionKind>('latlon');
  const [convention, setConvention] = useState<LonConvention | null>(null);
  const [cmap, setCmap] = useState(props.initialColormap ?? 'viridis');
  const [scale, setScale] = useState<Scale>('linear');
  const [userLimits, setUserLimits] = useState<[string, string]>(['', '']);
  const [showChunks, setShowChunks] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string>('');
  const [hoverCell, setHoverCell] = useState<ICell | null>(null);
  // Once asked for, every slice is read at full resolution (no more overviews).
  const [fullResolution, setFullResolution] = useState(false);
  const [point, setPoint] = useState<ICell | null>(null);
  const [seriesChoice, setSeriesChoice] = useState<string | null>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const figure = useRef<HTMLElement>(null);

  // Progress: the reader counts requests; redraw when they change.
  useTransferProgress(dataset);
  const coords = useCoordinates(dataset, variable, trans, setError);
  const curvGrid = useCurvilinearGrid(
    dataset,
    variable,
    curvilinear,
    trans,
    setError
  );

  const selection =
    variable && dims ? sliceSelection(variable.dims, dims, indices) : null;
  const selectionKey = JSON.stringify(selection);
  // The next step along time, read ahead once this one is drawn (not competing with it).
  const timeAt = variable && axes.time ? variable.dims.indexOf(axes.time) : -1;
  const nextSelection =
    selection && variable && timeAt >= 0 && selection[timeAt] !== null
      ? selection[timeAt]! + 1 < variable.shape[timeAt]
        ? selection.map((v, d) => (d === timeAt ? v! + 1 : v))
        : null
      : null;
  const { slice, setSlice, loading, sliceKey } = useSlice(
    dataset,
    variable,
    selection,
    selectionKey,
    fullResolution,
    trans,
    setError
  );
  const exact = useExactCells(
    dataset,
    variable,
    selection,
    selectionKey,
    !!slice?.overview,
    [hoverCell, point],
    trans,
    setError
  );

  const sliderDims =
    variable && dims ? variable.dims.filter(d => !dims.includes(d)) : [];
  // The dimension a click plots: the one chosen, else the time axis, else the first
  // dimension with a slider.
  const seriesDim =
    (seriesChoice && sliderDims.includes(seriesChoice) ? seriesChoice : null) ??
    sliderDims.find(d => d === axes.time) ??
    sliderDims[0] ??
    null;

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

  const units =
    typeof variable?.attrs.units === 'string' ? variable.attrs.units : '';
  const series = useSeries({
    dataset,
    variable,
    dims,
    indices,
    point,
    seriesDim,
    selectionKey,
    coords,
    describeCell,
    trans,
    setError
  });

  const { stats, autoLimits, typedLimits, limitsError, limits } =
    useColourLimits(slice, scale, userLimits);
  const rowCoord = dims ? coords[dims[0]] : undefined;
  const flip =
    !!rowCoord &&
    rowCoord.values.length > 1 &&
    rowCoord.values[0] < rowCoord.values[1];
  const onGlobe = projection === 'latlon';
  const locator = useLocator(
    variable,
    dims,
    onGlobe ? axes : { lat: null, lon: null },
    coords,
    onGlobe ? curvGrid : null
  );
  // Longitudes as the data write them until the user chooses.
  const lonConvention: LonConvention =
    convention ??
    (locator && locator.extent.east > 180.5 ? '0..360' : '-180..180');
  const geoView = useGeoView(locator, mapProjection, lonConvention, flip);
  const geo =
    geoView &&
    slice &&
    slice.rows === geoView.locator.rows &&
    slice.cols === geoView.locator.cols
      ? geoView
      : null;
  // Loaded as soon as the variable is known to be on the globe, while its coordinates and
  // first slice are still travelling.
  const basemap = useBasemap(
    onGlobe && (!!(axes.lat && axes.lon) || !!curvilinear),
    trans,
    setError
  );
  // The rows are drawn the right way up once the row coordinate is read (or there is none);
  // a map on the globe is final once drawn in its projection.
  const orientationKnown = locator
    ? !!geo
    : !dims || !!rowCoord || !coordinateOf(dims[0], dataset.variables);

  // "Show on Globe" of a file: once, when the first slice and its limits are known
  // (showOnGlobeNow is the latest render's showOnGlobe, defined below).
  const shownOnGlobe = useRef(!props.showOnGlobeOnceDrawn);
  const showOnGlobeNow = useRef<() => void>(() => undefined);
  useEffect(() => {
    if (!shownOnGlobe.current && slice && limits && variable && dims) {
      shownOnGlobe.current = true;
      showOnGlobeNow.current();
    }
  });

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

  /** "lat 12 degrees_north, lon 30 degrees_east: 287.5 K" for a cell of the slice. */
  const cellText = (
    cell: ICell
  ): { text: string; value: number; approximate: boolean } | null => {
    if (!slice || !dims || cell.row >= slice.rows || cell.col >= slice.cols) {
      return null;
    }
    // Over an overview, the block's mean until the server sends the cell's own value.
    const known = slice.overview
      ? exact.get(`${cell.row},${cell.col}`)
      : undefined;
    const approximate = !!slice.overview && known === undefined;
    const value = known ?? slice.values[cell.row * slice.cols + cell.col];
    const shown = Number.isNaN(value)
      ? trans.__('missing')
      : `${formatNumber(value)}${units ? ` ${units}` : ''}`;
    const level = slice.overview?.level;
    return {
      text: !approximate
        ? `${describeCell(cell.row, cell.col)}: ${shown}`
        : level
          ? trans.__(
              '%1: ≈ %2 (of multiscale level %3; Full resolution reads the exact value)',
              describeCell(cell.row, cell.col),
              shown,
              level.path
            )
          : trans.__(
              '%1: ≈ %2 (mean of the overview block; the exact value follows)',
              describeCell(cell.row, cell.col),
              shown
            ),
      value,
      approximate
    };
  };
  /** A multiscale level's cell size in its coordinates' units ("0.375° × 0.36°"). */
  const levelCellSize = (): string | undefined => {
    const level = slice?.overview?.level;
    if (!level || !dims) {
      return undefined;
    }
    const sides = dims.map((dim, i) => {
      const step = coords[dim]
        ? levelSpacing(coords[dim].values, i ? level.cols : level.rows)
        : null;
      const unit = coordinateOf(dim, dataset.variables)?.attrs.units;
      const text = typeof unit === 'string' ? unit : '';
      return step === null
        ? null
        : `${formatNumber(step)}${text.startsWith('degree') ? '°' : text ? ` ${text}` : ''}`;
    });
    return sides.every(Boolean) ? sides.join(' × ') : undefined;
  };
  const onHover = (cell: ICell | null): void => setHoverCell(cell);
  const hover = (hoverCell && cellText(hoverCell)?.text) ?? '';
  const picked = point ? cellText(point) : null;

  const onPick = (cell: ICell): void => setPoint(cell);

  const sliderLabel = (dim: string): string =>
    coords[dim]?.labels[indices[dim] ?? 0] ?? String(indices[dim] ?? 0);
  const longName =
    typeof variable?.attrs.long_name === 'string'
      ? variable.attrs.long_name
      : '';
  const heading = variable
    ? longName && longName !== variable.name
      ? `${variable.name}: ${longName}`
      : variable.name
    : '';
  const timeLabel = sliderDims
    .map(d => (d === axes.time ? sliderLabel(d) : `${d} ${sliderLabel(d)}`))
    .join(' · ');

  const onExport = (): void => {
    const el = figure.current;
    if (!el || !variable) {
      return;
    }
    const parts = [
      variable.name,
      ...sliderDims.map(d => `${d}-${sliderLabel(d)}`)
    ];
    const filename = `${parts.join('_').replace(/[^\w.-]+/g, '-')}.png`;
    exportPng(el, filename, () =>
      setError(trans.__('The map could not be turned into a PNG image.'))
    );
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
      ...openedAs(props.origin, variable),
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

  const openInNotebook = (): void => {
    const request = codeRequest();
    if (request && actions.openInNotebook) {
      actions
        .openInNotebook(request)
        .then(setNotice)
        .catch(reason =>
          setError(String((reason as Error)?.message ?? reason))
        );
    }
  };

  const showOnGlobe = (): void => {
    const field = globeField();
    if (typeof field === 'string') {
      setError(field);
      return;
    }
    actions
      .showOnGlobe?.(field)
      .then(() => setNotice(trans.__('%1 is on the globe.', field.title)))
      .catch(reason =>
        setError(
          trans.__(
            'The globe could not show this map: %1',
            String((reason as Error)?.message ?? reason)
          )
        )
      );
  };

  showOnGlobeNow.current = showOnGlobe;

  const globeProblem =
    actions.globeUnavailable?.() ??
    (actions.showOnGlobe ? null : trans.__('The globe is not available here.'));
  const geographic = !!curvGrid || !!(axes.lat && axes.lon);

  const chunksProblem =
    geo && !geo.aligned
      ? trans.__(
          "The chunk grid is drawn on the grid's own pixels: choose plate carrée with the longitudes as the data write them%1.",
          curvilinear ? trans.__(', or draw on the model grid') : ''
        )
      : null;
  const chunkOverlay =
    showChunks && slice && variable && selection && !chunksProblem
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
      <SliceSliders
        trans={trans}
        variable={variable}
        sliderDims={sliderDims}
        timeDim={axes.time}
        indices={indices}
        onIndex={(dim, index) => setIndices(i => ({ ...i, [dim]: index }))}
        sliderLabel={sliderLabel}
        focus={props.focusSlider !== false}
        seriesDim={seriesDim}
        onSeriesDim={setSeriesChoice}
        loading={loading}
        transfer={dataset.transfer}
      />
      <ColourControls
        trans={trans}
        cmap={cmap}
        onCmap={setCmap}
        scale={scale}
        onScale={setScale}
        autoLimits={autoLimits}
        userLimits={userLimits}
        onUserLimits={setUserLimits}
        typedLimits={typedLimits}
        limitsError={limitsError}
        curvilinear={!!curvilinear}
        projection={projection}
        onProjection={setProjection}
        geographic={!!locator}
        mapProjection={mapProjection}
        onMapProjection={setMapProjection}
        convention={lonConvention}
        onConvention={setConvention}
        chunksProblem={chunksProblem}
        showChunks={showChunks}
        onShowChunks={setShowChunks}
      />
      <MapActionsBar
        trans={trans}
        drawn={!!slice}
        onExport={onExport}
        hasOrigin={!!props.origin}
        canOpenInNotebook={!!actions.openInNotebook}
        onOpenInNotebook={openInNotebook}
        globeProblem={globeProblem}
        geographic={geographic}
        onShowOnGlobe={showOnGlobe}
        notice={notice}
      />
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
      {slice?.overview && (
        <OverviewBadge
          overview={slice.overview}
          spacing={levelCellSize()}
          loading={loading && fullResolution}
          onFullResolution={() => setFullResolution(true)}
          trans={trans}
        />
      )}
      <MapCanvas
        canvas={canvas}
        figure={figure}
        slice={slice}
        limits={limits}
        cmap={cmap}
        scale={scale}
        flip={flip}
        geo={geo}
        orientationKnown={orientationKnown}
        sliceKey={sliceKey}
        chunks={chunkOverlay}
        basemap={basemap}
        point={point}
        heading={heading}
        timeLabel={timeLabel}
        units={units}
        trans={trans}
        title={
          seriesDim
            ? trans.__('Click to plot the series along %1 here', seriesDim)
            : trans.__('Click to mark a point and read its value')
        }
        onHover={onHover}
        onPick={onPick}
        onDrawn={() =>
          variable &&
          nextSelection &&
          prefetch(dataset, variable, nextSelection, readSide(fullResolution))
        }
      />
      {chunkOverlay && (
        <ChunkSummary
          chunks={chunkOverlay}
          cache={dataset.cache.stats}
          trans={trans}
        />
      )}
      {picked && (
        <div
          className="jp-EspriVre-previewPicked"
          data-value={picked.value}
          data-approximate={picked.approximate ? 'true' : undefined}
        >
          {trans.__('Marked: %1', picked.text)}
        </div>
      )}
      {series && (
        <SeriesPlot
          series={series}
          variable={variable?.name ?? ''}
          units={units}
          trans={trans}
          onClose={() => setPoint(null)}
        />
      )}
      <div className="jp-EspriVre-previewHover">{hover || '\u00a0'}</div>
      <ColourSummary
        trans={trans}
        overview={slice?.overview}
        stats={stats}
        limits={limits}
        typedLimits={typedLimits}
        limitsError={limitsError}
        scale={scale}
      />
    </div>
  );
}
