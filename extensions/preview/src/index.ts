/**
 * @packageDocumentation
 * Chunked previews: Zarr stores, NetCDF/HDF5 files (through kerchunk references)
 * and tables, read in the browser.
 */
import { followSettings, IDatasetPreviewer, IGlobe } from '@espri-vre/core';
import { IJupyterWidgetRegistry } from '@jupyter-widgets/base';
import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Clipboard,
  ICommandPalette,
  InputDialog,
  MainAreaWidget
} from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import type { Widget } from '@lumino/widgets';
import { xarrayCode } from './code';
import {
  MODULE_NAME,
  MODULE_VERSION,
  PreviewModel,
  PreviewView,
  setKernelPreviewContext
} from './kernel-widget';
import { hasPreviewExtension, previewSource } from './sources';
import type { IMapActions } from './map-view';
import { type PreviewSource, PreviewWidget } from './widget';

export { PreviewWidget } from './widget';
export {
  hasPreviewExtension,
  PREVIEW_EXTENSIONS,
  previewSource
} from './sources';
export { xarrayCode } from './code';

/**
 * The command ids of this package.
 */
export namespace CommandIDs {
  export const openPreview = 'espri-vre:open-preview';
}

const PLUGIN_ID = '@espri-vre/preview:plugin';

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
    ITranslator,
    INotebookTracker,
    IJupyterWidgetRegistry,
    IGlobe
  ],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    browser: IDefaultFileBrowser | null,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null,
    notebooks: INotebookTracker | null,
    widgets: IJupyterWidgetRegistry | null,
    globe: IGlobe | null
  ): IDatasetPreviewer => {
    const trans = (translator ?? nullTranslator).load('espri_vre');
    const settings = app.serviceManager.serverSettings;
    let colormap = 'viridis';

    const actions: IMapActions = {
      openInNotebook: async request => {
        const panel = notebooks?.currentWidget;
        if (!panel || panel.isDisposed) {
          await Clipboard.copyToSystem(xarrayCode(request));
          return trans.__(
            'No notebook is open: the xarray code was copied to the clipboard.'
          );
        }
        const code = xarrayCode({
          ...request,
          notebookPath: panel.context.path
        });
        const notebook = panel.content;
        NotebookActions.insertBelow(notebook);
        const cell = notebook.activeCell;
        cell?.model.sharedModel.setSource(code);
        app.shell.activateById(panel.id);
        return trans.__(
          'The xarray code is in a new cell of %1.',
          panel.context.path
        );
      },
      globeUnavailable: () =>
        globe
          ? null
          : trans.__(
              'Show on globe needs the globe extension (@espri-vre/globe), which is not installed or not enabled.'
            ),
      showOnGlobe: async field => {
        if (globe) {
          await globe.addField(field);
        }
      }
    };

    const show = (source: PreviewSource, variable?: string): Widget => {
      const content = new PreviewWidget({
        source,
        settings,
        trans,
        variable,
        colormap,
        actions
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

    // espri_vre.preview(obj) in a notebook: the same view on the kernel's object.
    setKernelPreviewContext({
      trans,
      colormap: () => colormap,
      actions: { ...actions, openInNotebook: undefined },
      openInTab: content => {
        const widget = new MainAreaWidget({ content });
        widget.id = `espri-vre-preview-${Date.now()}`;
        widget.title.label = content.title.label;
        widget.title.caption = content.title.caption;
        widget.title.closable = true;
        app.shell.add(widget, 'main');
        app.shell.activateById(widget.id);
      }
    });
    widgets?.registerWidget({
      name: MODULE_NAME,
      version: MODULE_VERSION,
      exports: { PreviewModel, PreviewView }
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
