/**
 * @packageDocumentation
 * Chunked previews: Zarr stores, NetCDF/HDF5 files (through kerchunk references)
 * and tables, read in the browser.
 */
import {
  type DatasetReference,
  followSettings,
  IDatasetPreviewer
} from '@espri-vre/core';
import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  InputDialog,
  MainAreaWidget
} from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import type { Widget } from '@lumino/widgets';
import { type PreviewSource, PreviewWidget } from './widget';

export { PreviewWidget } from './widget';

/**
 * The command ids of this package.
 */
export namespace CommandIDs {
  export const openPreview = 'espri-vre:open-preview';
}

const PLUGIN_ID = '@espri-vre/preview:plugin';

/** The names the file browser offers "Preview" for. */
export const PREVIEW_EXTENSIONS = [
  '.nc',
  '.nc4',
  '.h5',
  '.hdf5',
  '.zarr',
  '.parquet',
  '.csv',
  '.arrow',
  '.feather'
];

/** Whether a file or folder name is one the previewer reads. */
export function hasPreviewExtension(name: string): boolean {
  const lower = name.toLowerCase().replace(/\/+$/, '');
  return PREVIEW_EXTENSIONS.some(ext => lower.endsWith(ext));
}

/** The source a catalogue's dataset is previewed from, if any. */
export function previewSource(dataset: DatasetReference): PreviewSource | null {
  for (const access of dataset.access) {
    if (access.protocol === 'zarr' && /^https?:\/\//.test(access.url)) {
      return { kind: 'zarr-url', url: access.url };
    }
    if (access.protocol === 'file' && hasPreviewExtension(access.url)) {
      return { kind: 'path', path: access.url };
    }
  }
  return null;
}

const plugin: JupyterFrontEndPlugin<IDatasetPreviewer> = {
  id: PLUGIN_ID,
  description:
    'Opens chunked previews of Zarr stores, NetCDF/HDF5 files and tables in the main area.',
  autoStart: true,
  provides: IDatasetPreviewer,
  optional: [
    ICommandPalette,
    IDefaultFileBrowser,
    ISettingRegistry,
    ITranslator
  ],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    browser: IDefaultFileBrowser | null,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null
  ): IDatasetPreviewer => {
    const trans = (translator ?? nullTranslator).load('espri_vre');
    const settings = app.serviceManager.serverSettings;
    let colormap = 'viridis';

    const show = (source: PreviewSource, variable?: string): Widget => {
      const content = new PreviewWidget({
        source,
        settings,
        trans,
        variable,
        colormap
      });
      const widget = new MainAreaWidget({ content });
      widget.id = `espri-vre-preview-${Date.now()}`;
      widget.title.label = content.title.label;
      widget.title.caption = content.title.caption;
      widget.title.closable = true;
      app.shell.add(widget, 'main');
      app.shell.activateById(widget.id);
      return widget;
    };

    const selectedPath = (): string | null => {
      const item = browser?.selectedItems().next();
      return item && !item.done ? item.value.path : null;
    };

    app.commands.addCommand(CommandIDs.openPreview, {
      label: args =>
        args['isContextMenu']
          ? trans.__('Preview')
          : trans.__('Open Data Preview'),
      caption: trans.__(
        'Preview a NetCDF/HDF5 file, a Zarr store or a table, reading only the chunks in view'
      ),
      isVisible: args => {
        if (!args['isContextMenu']) {
          return true;
        }
        const path = selectedPath();
        return path !== null && hasPreviewExtension(path);
      },
      execute: async args => {
        let path = typeof args['path'] === 'string' ? args['path'] : null;
        if (path === null && args['isContextMenu']) {
          path = selectedPath();
        }
        if (path === null) {
          const answer = await InputDialog.getText({
            title: trans.__('Preview a dataset'),
            label: trans.__('Path under the server root, or in a data root:'),
            placeholder: 'data/tas_demo_monthly.nc'
          });
          path = answer.button.accept ? (answer.value ?? '').trim() : '';
        }
        if (!path) {
          return null;
        }
        return show(
          { kind: 'path', path },
          typeof args['variable'] === 'string' ? args['variable'] : undefined
        );
      }
    });
    palette?.addItem({
      command: CommandIDs.openPreview,
      category: trans.__('ESPRI VRE')
    });
    app.contextMenu.addItem({
      command: CommandIDs.openPreview,
      args: { isContextMenu: true },
      selector: '.jp-DirListing-item[data-isdir]',
      rank: 3
    });

    followSettings(settingRegistry, PLUGIN_ID, settings => {
      colormap = settings.get('colormap').composite as string;
    });

    return {
      canPreview: dataset => previewSource(dataset) !== null,
      open: async (dataset, options = {}) => {
        const source = previewSource(dataset);
        if (!source) {
          throw new Error(
            trans.__(
              '%1 has no Zarr store URL nor file that can be previewed.',
              dataset.title
            )
          );
        }
        options.signal?.throwIfAborted();
        return show(source, options.variable);
      }
    };
  }
};

export default [plugin];
