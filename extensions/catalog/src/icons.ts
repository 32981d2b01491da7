import { LabIcon } from '@jupyterlab/ui-components';
import dataSvgstr from '../style/icons/data.svg';

/**
 * The Data panel's icon: a stack of disks, coloured by the theme (`jp-icon3`).
 */
export const dataIcon = new LabIcon({
  name: 'espri-vre:data',
  svgstr: dataSvgstr
});
