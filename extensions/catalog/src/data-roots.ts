/**
 * The data roots in JupyterLab's file browser: one read-only drive per reachable data
 * root (added as the status reports them), browsed in the Data Roots panel; the
 * command the Data panel's rows run to open one, and the context-menu entries on
 * their files ("Preview", "Open in Notebook", "Show on Globe"), each shown only where
 * it applies.
 */
import type {
  ICatalogRegistry,
  IDatasetPreviewer,
  IGlobe
} from '@espri-vre/core';
import { addSidePanel } from '@espri-vre/core';
import type { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import {
  type ICommandPalette,
  Notification,
  showErrorMessage
} from '@jupyterlab/apputils';
import type { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import type { Contents } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';
import { DataRootDrive } from './drive';
import { DataRootsPanel } from './roots-panel';
import {
  fileKind,
  fileReference,
  type FileKind,
  isGridded,
  openingCode
} from './drive-code';

/**
 * The command ids of the data roots.
 */
export namespace DataRootCommandIDs {
  export const openDataRootsPanel = 'espri-vre:open-data-roots-panel';
  export const openDataRoot = 'espri-vre:open-data-root';
  export const preview = 'espri-vre:preview-data-file';
  export const openInNotebook = 'espri-vre:open-data-file-in-notebook';
  export const showOnGlobe = 'espri-vre:show-data-file-on-globe';
}

/** The file browser's items (files and folders alike). */
const ITEM_SELECTOR = '.jp-DirListing-item[data-isdir]';

export interface IDataRootsOptions {
  app: JupyterFrontEnd;
  registry: ICatalogRegistry;
  trans: TranslationBundle;
  factory: IFileBrowserFactory;
  restorer: ILayoutRestorer | null;
  palette: ICommandPalette | null;
  previewer: IDatasetPreviewer | null;
  globe: IGlobe | null;
  /** Insert code in the notebook the suite writes to (opening one if none is). */
  insertCode: (code: string) => Promise<void>;
}

/** A selected file of a data root's drive, as the commands see it. */
interface Selected {
  drive: DataRootDrive;
  model: Contents.IModel;
  /** Its path on the server (inside the data root). */
  serverPath: string;
  kind: FileKind;
}

/**
 * Add the drives as data roots appear, and their commands.
 */
export function setupDataRoots(options: IDataRootsOptions): void {
  const { app, registry, trans, factory, previewer, globe } = options;
  const contents = app.serviceManager.contents;
  const drives = new Map<string, DataRootDrive>();
  const panel = new DataRootsPanel({
    trans,
    createBrowser: id =>
      factory.createFileBrowser(`espri-vre-data-root-${id}`, {
        driveName: drives.get(id)?.name
      })
  });
  const addDrives = (): void => {
    for (const root of registry.dataRoots) {
      // JupyterLab cannot remove a drive: one that stops answering stays, and says
      // why when it is listed.
      if (!root.reachable || drives.has(root.id)) {
        continue;
      }
      const drive = new DataRootDrive({
        root,
        serverSettings: app.serviceManager.serverSettings,
        trans,
        onCut: (path, shown, total) =>
          Notification.warning(
            total === null
              ? trans.__(
                  '%1 holds more entries than the server counts: the file browser shows the first %2. Open the folder in a notebook to see them all.',
                  `${root.title}/${path}`,
                  String(shown)
                )
              : trans.__(
                  '%1 holds %2 entries: the file browser shows the first %3. Open the folder in a notebook to see them all.',
                  `${root.title}/${path}`,
                  String(total),
                  String(shown)
                ),
            { autoClose: 10000 }
          )
      });
      contents.addDrive(drive);
      drives.set(root.id, drive);
    }
    panel.setRoots(registry.dataRoots.filter(root => drives.has(root.id)));
  };
  registry.changed.connect(addDrives);
  addDrives();
  addSidePanel(app, panel, {
    command: DataRootCommandIDs.openDataRootsPanel,
    label: trans.__('Open Data Roots'),
    caption: trans.__(
      "Browse the centre's data roots (read-only) in a file browser"
    ),
    category: trans.__('ESPRI VRE'),
    // Right after the Data panel (250).
    rank: 251,
    restorer: options.restorer,
    palette: options.palette
  });

  const selected = (): Selected | null => {
    // The file browser last used, when it is one of the data roots'.
    const browser = factory.tracker.currentWidget;
    if (browser === null || ![...panel.browsers.values()].includes(browser)) {
      return null;
    }
    const item = browser.selectedItems().next();
    if (!item || item.done) {
      return null;
    }
    const model = item.value;
    const name = contents.driveName(model.path);
    const drive = [...drives.values()].find(d => d.name === name);
    if (drive === undefined) {
      return null;
    }
    const local = contents.localPath(model.path);
    return {
      drive,
      model,
      serverPath: drive.serverPath(local),
      kind: fileKind(
        model.name,
        model.type === 'directory',
        drive.isZarrStore(local)
      )
    };
  };
  const failed = (title: string) => (reason: unknown) =>
    showErrorMessage(
      title,
      reason instanceof Error ? reason.message : String(reason)
    );

  app.commands.addCommand(DataRootCommandIDs.openDataRoot, {
    label: args =>
      typeof args['id'] === 'string'
        ? trans.__('Open Data Root %1', args['id'])
        : trans.__('Open Data Root'),
    caption: trans.__('Browse a data root in the file browser (read-only)'),
    describedBy: {
      args: {
        type: 'object',
        properties: {
          id: { type: 'string', description: trans.__('The data root id') }
        },
        required: ['id']
      }
    },
    execute: async args => {
      const id = String(args['id'] ?? '');
      if (!drives.has(id) && registry.state !== 'loading') {
        await registry.refresh().catch(() => undefined);
      }
      if (!drives.has(id)) {
        await showErrorMessage(
          trans.__('The data root could not be opened'),
          trans.__(
            'There is no reachable data root "%1": the Data panel says why.',
            id
          )
        );
        return;
      }
      app.shell.activateById(panel.id);
      await panel.showRoot(id);
    }
  });

  app.commands.addCommand(DataRootCommandIDs.preview, {
    label: trans.__('Preview'),
    caption: trans.__('Preview the file, reading only the chunks in view'),
    isVisible: () => {
      const file = selected();
      return (
        file !== null &&
        previewer !== null &&
        file.kind !== null &&
        previewer.canPreview(
          fileReference(file.drive.root.id, file.serverPath, file.kind)
        )
      );
    },
    execute: async () => {
      const file = selected();
      if (file === null || previewer === null) {
        return;
      }
      await previewer
        .open(fileReference(file.drive.root.id, file.serverPath, file.kind))
        .catch(failed(trans.__('The preview could not be opened')));
    }
  });

  app.commands.addCommand(DataRootCommandIDs.openInNotebook, {
    label: trans.__('Open in Notebook'),
    caption: trans.__(
      'Insert the code that opens this file in the active notebook (a new one when none is open)'
    ),
    isVisible: () => {
      const file = selected();
      return file !== null && openingCode(file.serverPath, file.kind) !== null;
    },
    execute: async () => {
      const file = selected();
      const code = file && openingCode(file.serverPath, file.kind);
      if (code) {
        await options
          .insertCode(code)
          .catch(failed(trans.__('The code could not be inserted')));
      }
    }
  });

  app.commands.addCommand(DataRootCommandIDs.showOnGlobe, {
    label: trans.__('Show on Globe'),
    caption: trans.__('Draw the gridded dataset on the 3D globe'),
    isVisible: () => {
      const file = selected();
      return (
        globe !== null &&
        previewer !== null &&
        file !== null &&
        isGridded(file.kind)
      );
    },
    execute: async () => {
      const file = selected();
      if (file === null || globe === null || previewer === null) {
        return;
      }
      // The previewer reads the slice and hands it to the globe: the preview opens
      // beside the globe, where the user can move to another time step and show it.
      await previewer
        .open(fileReference(file.drive.root.id, file.serverPath, file.kind), {
          showOnGlobe: true
        })
        .catch(failed(trans.__('The dataset could not be shown on the globe')));
    }
  });

  [
    DataRootCommandIDs.preview,
    DataRootCommandIDs.openInNotebook,
    DataRootCommandIDs.showOnGlobe
  ].forEach((command, i) =>
    app.contextMenu.addItem({ command, selector: ITEM_SELECTOR, rank: 3 + i })
  );
}
