/**
 * @packageDocumentation
 * Chunked previews: Zarr stores, NetCDF/HDF5 files (through kerchunk references)
 * and tables, read in the browser.
 */
import { followSettings, IDatasetPreviewer, IGlobe } from '@espri-vre/core';
import { IJupyterWidgetRegistry } from '@jupyter-widgets/base';
import {
  ILayoutRestorer,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Clipboard,
  ICommandPalette,
  InputDialog,
  MainAreaWidget,
  WidgetTracker
} from '@jupyterlab/apputils';
import {
  IDefaultFileBrowser,
  IFileBrowserFactory
} from '@jupyterlab/filebrowser';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';
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
import {
  type IPreviewState,
  type PreviewSource,
  PreviewWidget
} from './widget';

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
    IGlobe,
    ILayoutRestorer,
    IFileBrowserFactory
  ],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    browser: IDefaultFileBrowser | null,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null,
    notebooks: INotebookTracker | null,
    widgets: IJupyterWidgetRegistry | null,
    globe: IGlobe | null,
    restorer: ILayoutRestorer | null,
    browsers: IFileBrowserFactory | null
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

    // Previews of files and stores are reopened by a reload with their variable and
    // slice; those of a kernel's objects (below) are not: the object is gone.
    const tracker = new WidgetTracker<MainAreaWidget<PreviewWidget>>({
      namespace: 'espri-vre-preview'
    });
    const show = (
      source: PreviewSource,
      variable?: string,
      indices?: Readonly<Record<string, number>>,
      showOnGlobe?: boolean
    ): Widget => {
      const content = new PreviewWidget({
        source,
        settings,
        trans,
        variable,
        indices,
        colormap,
        actions,
        showOnGlobe,
        onStateChange: () => void tracker.save(widget)
      });
      const widget = new MainAreaWidget({ content });
      widget.id = `espri-vre-preview-${Date.now()}`;
      widget.title.label = content.title.label;
      widget.title.caption = content.title.caption;
      widget.title.closable = true;
      app.shell.add(widget, 'main');
      void tracker.add(widget);
      app.shell.activateById(widget.id);
      return widget;
    };
    void restorer?.restore(tracker, {
      command: CommandIDs.openPreview,
      name: widget => JSON.stringify(widget.content.state.source),
      args: widget => restoreArgs(widget.content.state)
    });

    // The selection of the file browser used last (the context menu's), which is
    // not always the default one.
    const selectedPath = (): string | null => {
      const item = (browsers?.tracker.currentWidget ?? browser)
        ?.selectedItems()
        .next();
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
        // Files of other drives (the data roots') are previewed by their own entry.
        return (
          path !== null &&
          hasPreviewExtension(path) &&
          app.serviceManager.contents.driveName(path) === ''
        );
      },
      execute: async args => {
        const variable =
          typeof args['variable'] === 'string' ? args['variable'] : undefined;
        const indices = indicesArgument(args['indices']);
        const source = sourceArgument(args['source']);
        if (source !== null) {
          return show(source, variable, indices);
        }
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
        return show({ kind: 'path', path }, variable, indices);
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
        return show(source, options.variable, undefined, options.showOnGlobe);
      }
    };
  }
};

/** The arguments of the command that reopens a preview as it was. */
function restoreArgs(state: IPreviewState): ReadonlyPartialJSONObject {
  return {
    source: { ...state.source },
    ...(state.variable === undefined ? {} : { variable: state.variable }),
    ...(state.indices === undefined ? {} : { indices: { ...state.indices } })
  };
}

/**
 * The `source` argument (a whole preview source, as a reload passes it back), or null
 * when there is none; a malformed one is said so by the preview it opens.
 */
function sourceArgument(value: unknown): PreviewSource | null {
  return typeof value === 'object' &&
    value !== null &&
    typeof (value as { kind?: unknown }).kind === 'string'
    ? (value as PreviewSource)
    : null;
}

/** The `indices` argument (dimension -> index), keeping only non-negative integers. */
function indicesArgument(value: unknown): Record<string, number> | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return undefined;
  }
  return Object.fromEntries(
    Object.entries(value).filter(
      (entry): entry is [string, number] =>
        Number.isInteger(entry[1]) && (entry[1] as number) >= 0
    )
  );
}

export default [plugin];
