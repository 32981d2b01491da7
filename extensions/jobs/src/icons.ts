import { LabIcon } from '@jupyterlab/ui-components';
import jobsSvgstr from '../style/icons/jobs.svg';

/**
 * The Jobs panel's icon: three queued bars, coloured by the theme (`jp-icon3`).
 */
export const jobsIcon = new LabIcon({
  name: 'espri-vre:jobs',
  svgstr: jobsSvgstr
});
