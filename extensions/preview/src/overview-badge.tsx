/**
 * What the map says while it shows the server's overview (issue 17): at what
 * resolution, that hover and click read exact values, that the statistics are of the
 * overview; and the button that reads the full resolution.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';

export function OverviewBadge(props: {
  factor: number;
  loading: boolean;
  onFullResolution: () => void;
  trans: TranslationBundle;
}): JSX.Element {
  const { factor, trans } = props;
  return (
    <div
      className="jp-EspriVre-overviewBadge"
      role="status"
      data-factor={factor}
    >
      <span>
        {trans.__(
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
