/**
 * @packageDocumentation
 * The Data panel of the espri-vre suite and the catalogue registry behind it.
 */
import { followSettings, ICatalogRegistry } from '@espri-vre/core';
import {
  ILayoutRestorer,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Clipboard,
  ICommandPalette,
  MainAreaWidget,
  showErrorMessage
} from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { CatalogBrowser } from './browser/browser';
import { filesRoute } from './browser/model';
import {
  insertCodeCell,
  isNotebookLike,
  type NotebookLike
} from './browser/notebook';
import { dataIcon } from './icons';
import { DataPanel } from './panel';
import { CatalogRegistry } from './registry';

export { CatalogRegistry } from './registry';
export { DataPanel, DATA_PANEL_ID } from './panel';
export { CatalogBrowser } from './browser/browser';

/**
 * The command ids of this package.
 */
export namespace CommandIDs {
  export const openDataPanel = 'espri-vre:open-data-panel';
  export const browseCatalog = 'espri-vre:browse-catalog';
  /** Provided by `@espri-vre/preview`, when it is installed. */
  export const openPreview = 'espri-vre:open-preview';
}

const PLUGIN_ID = '@espri-vre/catalog:panel';

/**
 * The server's root directory, from the page configuration JupyterLab's own
 * `PageConfig` reads (`serverRoot`); this package does not depend on
 * `@jupyterlab/coreutils`, so it reads the same element.
 */
function serverRoot(): string | null {
  const node = document.getElementById('jupyter-config-data');
  try {
    const root = (
      JSON.parse(node?.textContent ?? '{}') as { serverRoot?: unknown }
    ).serverRoot;
    return typeof root === 'string' && root !== '' ? root : null;
  } catch {
    return null;
  }
}

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

    // The browser takes focus when its buttons are pressed: code goes to the
    // notebook that was active last.
    let lastNotebook: NotebookLike | null = null;
    const shell = app.shell as {
      currentChanged?: {
        connect(
          slot: (sender: unknown, args: { newValue: unknown }) => void
        ): void;
      };
    };
    shell.currentChanged?.connect((_, args) => {
      if (isNotebookLike(args.newValue)) {
        lastNotebook = args.newValue;
      }
    });
    const browsers = new Map<string, MainAreaWidget<CatalogBrowser>>();

    const browseCatalog = async (id: string): Promise<void> => {
      const open = browsers.get(id);
      if (open && !open.isDisposed) {
        app.shell.activateById(open.id);
        return;
      }
      if (!registry.get(id) && registry.state !== 'loading') {
        await registry.refresh().catch(() => undefined);
      }
      const catalog = registry.get(id);
      if (!catalog) {
        throw new Error(
          trans.__('There is no catalogue "%1" in the configuration.', id)
        );
      }
      const settings = app.serviceManager.serverSettings;
      const content = new CatalogBrowser({
        catalog,
        settings,
        trans,
        serverFileUrl: path => {
          const route = filesRoute(path, registry.dataRoots, serverRoot());
          return route === null ? null : new URL(route, settings.baseUrl).href;
        },
        actions: {
          insertCode: async code => {
            const notebook = lastNotebook;
            if (notebook === null || notebook.isDisposed) {
              throw new Error(
                trans.__(
                  'Open a notebook first: the code goes below its active cell.'
                )
              );
            }
            insertCodeCell(notebook, code);
            app.shell.activateById(notebook.id);
          },
          copyCode: code => Clipboard.copyToSystem(code),
          previewUnavailable: () =>
            app.commands.hasCommand(CommandIDs.openPreview)
              ? null
              : trans.__(
                  'Previews need the espri-vre preview extension, which is not installed or is disabled.'
                ),
          preview: async path => {
            await app.commands.execute(CommandIDs.openPreview, { path });
          }
        }
      });
      const widget = new MainAreaWidget({ content });
      widget.id = content.id;
      widget.title.label = content.title.label;
      widget.title.caption = content.title.caption;
      widget.title.icon = dataIcon;
      widget.title.closable = true;
      browsers.set(id, widget);
      widget.disposed.connect(() => browsers.delete(id));
      app.shell.add(widget, 'main');
      app.shell.activateById(widget.id);
    };

    const panel = new DataPanel({
      registry,
      trans,
      onOpenCatalog: id => {
        void app.commands.execute(CommandIDs.browseCatalog, { id });
      }
    });
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

    app.commands.addCommand(CommandIDs.browseCatalog, {
      label: args =>
        typeof args['id'] === 'string'
          ? trans.__('Browse Catalogue %1', args['id'])
          : trans.__('Browse Catalogue'),
      caption: trans.__(
        'Open the Catalogue Browser of a configured catalogue: facets, datasets and the code to open them'
      ),
      describedBy: {
        args: {
          type: 'object',
          properties: {
            id: { type: 'string', description: trans.__('The catalogue id') }
          },
          required: ['id']
        }
      },
      execute: async args => {
        const id = args['id'];
        if (typeof id !== 'string' || id === '') {
          app.shell.activateById(panel.id);
          return;
        }
        try {
          await browseCatalog(id);
        } catch (reason) {
          await showErrorMessage(
            trans.__('The Catalogue Browser could not be opened'),
            reason instanceof Error ? reason.message : String(reason)
          );
        }
      }
    });

    followSettings(settingRegistry, PLUGIN_ID, settings => {
      panel.autoRefreshSeconds = settings.get('autoRefreshSeconds')
        .composite as number;
    });

    return registry;
  }
};

export default [panelPlugin];
