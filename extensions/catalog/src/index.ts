/**
 * @packageDocumentation
 * The Data panel of the espri-vre suite and the catalogue registry behind it.
 */
import { ICatalogRegistry } from '@espri-vre/core';
import {
  ILayoutRestorer,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { dataIcon } from './icons';
import { DataPanel } from './panel';
import { CatalogRegistry } from './registry';

export { CatalogRegistry } from './registry';
export { DataPanel, DATA_PANEL_ID } from './panel';

/**
 * The command ids of this package.
 */
export namespace CommandIDs {
  export const openDataPanel = 'espri-vre:open-data-panel';
}

const PLUGIN_ID = '@espri-vre/catalog:panel';

/**
 * Provides the catalogue registry and adds the Data panel to the left sidebar.
 */
const panelPlugin: JupyterFrontEndPlugin<ICatalogRegistry> = {
  id: PLUGIN_ID,
  description:
    'The Data panel: the catalogues, clusters and data roots the server is configured with, and their reachability.',
  autoStart: true,
  provides: ICatalogRegistry,
  optional: [ICommandPalette, ILayoutRestorer, ISettingRegistry, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null
  ): ICatalogRegistry => {
    const trans = (translator ?? nullTranslator).load('espri_vre');
    const registry = new CatalogRegistry({
      serverSettings: app.serviceManager.serverSettings
    });

    const panel = new DataPanel({ registry, trans });
    // After the file browser (100) and the running sessions (200).
    app.shell.add(panel, 'left', { rank: 250 });
    restorer?.add(panel, panel.id);

    app.commands.addCommand(CommandIDs.openDataPanel, {
      label: trans.__('Open Data Panel'),
      caption: trans.__(
        'Show the catalogues, clusters and data roots of the server, and whether they are reachable'
      ),
      icon: args => (args['isPalette'] ? undefined : dataIcon),
      execute: () => {
        app.shell.activateById(panel.id);
      }
    });
    palette?.addItem({
      command: CommandIDs.openDataPanel,
      category: trans.__('ESPRI VRE')
    });

    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          const apply = (): void => {
            panel.autoRefreshSeconds = settings.get('autoRefreshSeconds')
              .composite as number;
          };
          apply();
          settings.changed.connect(apply);
        })
        .catch(reason => {
          console.error(
            `${PLUGIN_ID}: the settings could not be loaded`,
            reason
          );
        });
    }

    return registry;
  }
};

export default [panelPlugin];
