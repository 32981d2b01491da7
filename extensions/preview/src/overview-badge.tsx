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
              'Multiscale level %1 (%2 × %3 cells, 1:%4, one of the store’s %5 levels): values on hover, statistics and automatic limits are of this level.',
              level.path,
              level.rows,
              level.cols,
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
