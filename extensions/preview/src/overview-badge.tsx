/**
 * What the map says while it shows an overview (issue 17): the server's block means or
 * a multiscale store's coarser level, at what resolution, where the values under the
 * pointer come from, that the statistics are of the overview; and the button that reads
 * the full resolution.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';
import type { IOverviewInfo } from './overview';

export function OverviewBadge(props: {
  overview: IOverviewInfo;
  /** A multiscale level's cell size along the rows and columns ("0.375° × 0.36°"), if known. */
  spacing?: string;
  loading: boolean;
  onFullResolution: () => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { overview, trans } = props;
  const { factor, level } = overview;
  return (
    <div
      className="jp-EspriVre-overviewBadge"
      role="status"
      data-factor={factor}
      data-level={level?.path}
    >
      <span>
        {level
          ? trans.__(
              'Multiscale level %1 (%2 × %3 cells%4, 1:%5, one of the store’s %6 levels): values on hover, statistics and automatic limits are of this level.',
              level.path,
              level.rows,
              level.cols,
              props.spacing ? `, ${props.spacing}` : '',
              factor,
              level.count
            )
          : trans.__(
              'Overview 1:%1 (each pixel the mean of %1 × %1 cells): exact values on hover; the statistics and automatic limits are of the overview.',
              factor
            )}
      </span>
      <button
        type="button"
        className="jp-Button jp-mod-styled jp-EspriVre-fullResolution"
        disabled={props.loading}
        onClick={props.onFullResolution}
      >
        {props.loading
          ? trans.__('Reading the full resolution…')
          : trans.__('Full resolution')}
      </button>
    </div>
  );
}
