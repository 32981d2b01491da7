import { LabIcon } from '@jupyterlab/ui-components';

/**
 * The globe's icon (launcher card, tab): a sphere with a meridian and the equator,
 * coloured by the theme (`jp-icon3`).
 */
export const globeIcon = new LabIcon({
  name: 'espri-vre:globe',
  svgstr: `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="none" stroke="#616161" stroke-width="1.6">
    <circle cx="12" cy="12" r="9"/>
    <ellipse cx="12" cy="12" rx="4" ry="9"/>
    <path d="M3 12h18M5 7.5h14M5 16.5h14"/>
  </g>
</svg>`
});
