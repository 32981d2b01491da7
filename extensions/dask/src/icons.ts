import { LabIcon } from '@jupyterlab/ui-components';
import daskSvgstr from '../style/icons/dask.svg';

/**
 * The Dask panel's icon: three leaning bars, coloured by the theme (`jp-icon3`).
 */
export const daskIcon = new LabIcon({
  name: 'espri-vre:dask',
  svgstr: daskSvgstr
});
