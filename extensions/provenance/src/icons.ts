import { LabIcon } from '@jupyterlab/ui-components';
import provenanceSvgstr from '../style/icons/provenance.svg';

/**
 * The provenance icon: cells linked by what they read and wrote (`jp-icon3`).
 */
export const provenanceIcon = new LabIcon({
  name: 'espri-vre:provenance',
  svgstr: provenanceSvgstr
});
