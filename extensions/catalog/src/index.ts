/**
 * @packageDocumentation
 * The Data panel of the espri-vre suite and the catalogue registry behind it.
 */
import {
  addSidePanel,
  followSettings,
  ICatalogRegistry,
  IDatasetPreviewer,
  IGlobe,
  IProvenanceRecorder
} from '@espri-vre/core';
import {
  ILayoutRestorer,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Clipboard,
  ICommandPalette,
  MainAreaWidget,
  showErrorMessage,
  WidgetTracker
} from '@jupyterlab/apputils';
import {
  IDefaultFileBrowser,
  IFileBrowserFactory
} from '@jupyterlab/filebrowser';
import { ILauncher } from '@jupyterlab/launcher';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import type { PartialJSONValue } from '@lumino/coreutils';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { CatalogBrowser } from './browser/browser';
import { previewReference, recordFootprint } from './browser/dataset-actions';
import { filesRoute } from './browser/model';
import {
  insertCodeCell,
  isNotebookLike,
  type NotebookLike
} from './browser/notebook';
import { type Pin, readPins } from './browser/pins';
import { decodeSearch, encodeSearch, type RemoteQuery } from './browser/query';
import { setupDataRoots, DataRootCommandIDs } from './data-roots';
import { dataIcon } from './icons';
import { type DatasetRecord, toDatasetReference } from './record';
import { DataPanel } from './panel';
import { CatalogRegistry } from './registry';

export { CatalogRegistry } from './registry';
export { DataPanel, DATA_PANEL_ID } from './panel';
export { CatalogBrowser } from './browser/browser';
export { previewReference, recordFootprint } from './browser/dataset-actions';
export { DataRootDrive, driveName } from './drive';
export { DataRootCommandIDs } from './data-roots';

/**
 * The command ids of this package.
 */
export namespace CommandIDs {
  export const openDataPanel = 'espri-vre:open-data-panel';
  export const browseCatalog = 'espri-vre:browse-catalog';
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
 * Provides the catalogue registry and adds the Data panel to the left sidebar. The
 * Catalogue Browser's "Preview", "Show on globe" and "Add to provenance" are enabled
 * when the previewer, the globe and the provenance recorder are installed (their
 * tokens are optional).
 */
const panelPlugin: JupyterFrontEndPlugin<ICatalogRegistry> = {
  id: PLUGIN_ID,
  description:
    'The Data panel: the catalogues, clusters and data roots the server is configured with, and their reachability.',
  autoStart: true,
  provides: ICatalogRegistry,
  optional: [
    ICommandPalette,
    ILayoutRestorer,
    ISettingRegistry,
    ITranslator,
    IDatasetPreviewer,
    IGlobe,
    IProvenanceRecorder,
    IFileBrowserFactory,
    IDefaultFileBrowser,
    ILauncher
  ],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null,
    previewer: IDatasetPreviewer | null,
    globe: IGlobe | null,
    recorder: IProvenanceRecorder | null,
    browserFactory: IFileBrowserFactory | null,
    defaultBrowser: IDefaultFileBrowser | null,
    launcher: ILauncher | null
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
    const notebookPath = (): string | null =>
      lastNotebook === null || lastNotebook.isDisposed
        ? null
        : (lastNotebook.context?.path ?? null);
    const browsers = new Map<string, MainAreaWidget<CatalogBrowser>>();
    const tracker = new WidgetTracker<MainAreaWidget<CatalogBrowser>>({
      namespace: 'espri-vre-catalog'
    });
    let pins: Pin[] = [];
    // Open details re-read the pins when they change: the settings arrive after a
    // restored browser has drawn, and another tab may change them.
    const pinWatchers = new Set<() => void>();
    const pinsChanged = (): void => pinWatchers.forEach(watcher => watcher());

    // The code goes below the active cell of the notebook used last, or into a new
    // notebook in the default file browser's folder (named: the file browser used
    // last may be a read-only data root's, where the notebook would be created).
    const insertCode = async (code: string): Promise<void> => {
      let notebook = lastNotebook;
      if (notebook === null || notebook.isDisposed) {
        const kernelName = app.serviceManager.kernelspecs.specs?.default;
        const created: unknown = await app.commands.execute(
          'notebook:create-new',
          {
            cwd: defaultBrowser?.model.path || '/',
            // The server's default kernel, without asking: the code is Python.
            ...(kernelName ? { kernelName } : {})
          }
        );
        if (!isNotebookLike(created)) {
          throw new Error(
            trans.__('No notebook is open and a new one could not be created.')
          );
        }
        await created.context?.ready;
        notebook = created;
        lastNotebook = created;
      }
      insertCodeCell(notebook, code);
      app.shell.activateById(notebook.id);
    };

    const browseCatalog = async (
      id: string,
      initialQuery?: RemoteQuery
    ): Promise<void> => {
      const open = browsers.get(id);
      if (open && !open.isDisposed) {
        if (initialQuery === undefined) {
          app.shell.activateById(open.id);
          return;
        }
        open.dispose();
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
        initialQuery,
        catalogs: () => registry.catalogs,
        onPickCatalog: other => {
          void app.commands.execute(CommandIDs.browseCatalog, { id: other });
        },
        serverFileUrl: path => {
          const route = filesRoute(path, registry.dataRoots, serverRoot());
          return route === null ? null : new URL(route, settings.baseUrl).href;
        },
        actions: {
          insertCode,
          copyCode: code => Clipboard.copyToSystem(code),
          previewUnavailable: () =>
            previewer
              ? null
              : trans.__(
                  'Previews need the espri-vre preview extension, which is not installed or is disabled.'
                ),
          preview: async (path, record) => {
            await previewer?.open(previewReference(record, path));
          },
          globeUnavailable: () =>
            globe
              ? null
              : trans.__(
                  'Footprints need the espri-vre globe extension, which is not installed or is disabled.'
                ),
          showOnGlobe: async (record: DatasetRecord) => {
            const footprint = recordFootprint(record);
            if (globe && footprint) {
              await globe.addFootprint(footprint);
            }
          },
          provenanceUnavailable: () =>
            recorder === null
              ? trans.__(
                  'Adding to provenance needs the espri-vre provenance extension, which is not installed or is disabled.'
                )
              : notebookPath() === null
                ? trans.__(
                    'Open a notebook first: the dataset is added to its provenance.'
                  )
                : null,
          addToProvenance: async (record: DatasetRecord) => {
            const path = notebookPath();
            if (recorder === null || path === null) {
              return;
            }
            if (
              !(await recorder.addDataset(path, toDatasetReference(record)))
            ) {
              throw new Error(
                trans.__(
                  'the kernel of %1 is not recording (see %provenance).',
                  path
                )
              );
            }
          },
          pins: () => pins,
          watchPins: onChange => {
            pinWatchers.add(onChange);
            return () => pinWatchers.delete(onChange);
          },
          setPins: async next => {
            if (settingRegistry === null) {
              throw new Error(
                trans.__('The settings are not available: pins cannot be kept.')
              );
            }
            await settingRegistry.set(
              PLUGIN_ID,
              'pins',
              next as unknown as PartialJSONValue
            );
            pins = next;
          },
          shareLink: (catalogId, query) => {
            const url = new URL('lab', settings.baseUrl);
            url.search = encodeSearch(catalogId, query).toString();
            return url.href;
          },
          saveFile: (name, text) => {
            const link = document.createElement('a');
            const href = URL.createObjectURL(
              new Blob([text], { type: 'text/x-shellscript' })
            );
            link.href = href;
            link.download = name;
            document.body.appendChild(link);
            link.click();
            link.remove();
            setTimeout(() => URL.revokeObjectURL(href), 60000);
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
      // Each new search is kept in the workspace, for a reload to restore.
      content.queryChanged.connect(() => void tracker.save(widget));
      app.shell.add(widget, 'main');
      void tracker.add(widget);
      app.shell.activateById(widget.id);
    };

    const panel = new DataPanel({
      registry,
      trans,
      onOpenCatalog: id => {
        void app.commands.execute(CommandIDs.browseCatalog, { id });
      },
      onOpenRoot: id => {
        void app.commands.execute(DataRootCommandIDs.openDataRoot, { id });
      }
    });
    if (browserFactory !== null) {
      setupDataRoots({
        app,
        registry,
        trans,
        factory: browserFactory,
        restorer,
        palette,
        previewer,
        globe,
        insertCode
      });
    }
    addSidePanel(app, panel, {
      command: CommandIDs.openDataPanel,
      label: trans.__('Open Data Panel'),
      caption: trans.__(
        'Show the catalogues, clusters and data roots of the server, and whether they are reachable'
      ),
      category: trans.__('ESPRI VRE'),
      // After the file browser (100) and the running sessions (200).
      rank: 250,
      restorer,
      palette
    });

    app.commands.addCommand(CommandIDs.browseCatalog, {
      label: args =>
        args['isLauncher']
          ? trans.__('Catalogue')
          : typeof args['id'] === 'string'
            ? trans.__('Browse Catalogue %1', args['id'])
            : trans.__('Browse Catalogue'),
      icon: args => (args['isLauncher'] ? dataIcon : undefined),
      caption: trans.__(
        'Open the Catalogue Browser of a configured catalogue: facets, datasets and the code to open them'
      ),
      describedBy: {
        args: {
          type: 'object',
          properties: {
            id: { type: 'string', description: trans.__('The catalogue id') },
            search: {
              type: 'string',
              description: trans.__(
                'The search to show, as the parameters of a shared search link'
              )
            }
          }
        }
      },
      execute: async args => {
        let id = args['id'];
        if ((typeof id !== 'string' || id === '') && args['isLauncher']) {
          // The launcher's card: the first catalogue, or the panel that says why
          // there is none.
          if (registry.state === 'idle') {
            await registry.refresh().catch(() => undefined);
          }
          id = registry.catalogs[0]?.id;
        }
        if (typeof id !== 'string' || id === '') {
          app.shell.activateById(panel.id);
          return;
        }
        const search =
          typeof args['search'] === 'string'
            ? decodeSearch(new URLSearchParams(args['search']))
            : null;
        try {
          await browseCatalog(id, search?.query);
        } catch (reason) {
          await showErrorMessage(
            trans.__('The Catalogue Browser could not be opened'),
            reason instanceof Error ? reason.message : String(reason)
          );
        }
      }
    });

    // A reload reopens each Catalogue Browser with its search.
    void restorer?.restore(tracker, {
      command: CommandIDs.browseCatalog,
      name: widget => widget.content.catalogId,
      args: widget => {
        const query = widget.content.query;
        const id = widget.content.catalogId;
        return query === undefined
          ? { id }
          : { id, search: encodeSearch(id, query).toString() };
      }
    });
    launcher?.add({
      command: CommandIDs.browseCatalog,
      args: { isLauncher: true },
      category: trans.__('ESPRI VRE'),
      rank: 10
    });

    followSettings(settingRegistry, PLUGIN_ID, settings => {
      panel.autoRefreshSeconds = settings.get('autoRefreshSeconds')
        .composite as number;
      pins = readPins(settings.get('pins').composite);
      pinsChanged();
    });

    // A shared search link (`/lab?espri-vre-catalog=...`) opens that search once the
    // workspace is restored.
    const shared = decodeSearch(new URLSearchParams(window.location.search));
    if (shared !== null) {
      void app.restored.then(async () => {
        try {
          await browseCatalog(shared.catalogId, shared.query);
        } catch (reason) {
          await showErrorMessage(
            trans.__('The shared search could not be opened'),
            reason instanceof Error ? reason.message : String(reason)
          );
        }
      });
    }

    return registry;
  }
};

export default [panelPlugin];
