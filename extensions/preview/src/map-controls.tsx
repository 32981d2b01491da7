/**
 * The map's colour and drawing controls: colour map, scale and limits; for a map on
 * longitude and latitude its projection and the longitudes' range; for a curvilinear
 * grid whether it is drawn on the globe or on the model grid; the chunk-grid overlay.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';
import { COLORMAPS, type Scale } from './colormap';
import { formatNumber } from './format';
import {
  type LonConvention,
  PROJECTIONS,
  type ProjectionKind
} from './projection';

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
  /** Why the chunk grid cannot be drawn on this map (not on the grid's own pixels), or null. */
  chunksProblem: string | null;
  /** Whether the map is on longitude and latitude (it can then be projected). */
  geographic: boolean;
  mapProjection: ProjectionKind;
  onMapProjection: (kind: ProjectionKind) => void;
  convention: LonConvention;
  onConvention: (convention: LonConvention) => void;
  showChunks: boolean;
  onShowChunks: (show: boolean) => void;
}

/** Colour map, scale, limits, projection, longitudes and chunk grid. */
export function ColourControls(props: IColourControlsProps): JSX.Element {
  const { trans, autoLimits, userLimits, limitsError, chunksProblem } = props;
  const projectionNames: Record<ProjectionKind, string> = {
    latlon: trans.__('plate carrée'),
    'equal-earth': trans.__('Equal Earth'),
    'north-polar': trans.__('north polar stereographic'),
    'south-polar': trans.__('south polar stereographic')
  };
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
      {props.geographic && (
        <label className="jp-EspriVre-previewMapProjection">
          {trans.__('Projection')}
          <select
            value={props.mapProjection}
            onChange={e =>
              props.onMapProjection(e.target.value as ProjectionKind)
            }
          >
            {PROJECTIONS.map(p => (
              <option key={p} value={p}>
                {projectionNames[p]}
              </option>
            ))}
          </select>
        </label>
      )}
      {props.geographic && (
        <label className="jp-EspriVre-previewLongitudes">
          {trans.__('Longitudes')}
          <select
            value={props.convention}
            onChange={e => props.onConvention(e.target.value as LonConvention)}
          >
            <option value="-180..180">
              {trans.__('−180 to 180 (centred on 0°)')}
            </option>
            <option value="0..360">
              {trans.__('0 to 360 (centred on 180°)')}
            </option>
          </select>
        </label>
      )}
      <label
        className="jp-EspriVre-previewChunkToggle"
        title={
          chunksProblem ??
          trans.__('Outline the chunks of this map; the ones read are filled')
        }
      >
        <input
          type="checkbox"
          checked={props.showChunks}
          disabled={!!chunksProblem}
          onChange={e => props.onShowChunks(e.target.checked)}
        />
        {trans.__('Chunk grid')}
      </label>
    </div>
  );
}
