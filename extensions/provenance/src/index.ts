/**
 * @packageDocumentation
 * Provenance of notebook runs, captured by the espri_vre kernel extension: a recording
 * indicator in each notebook's toolbar (which also keeps the run id and the last hash in the
 * notebook's metadata), a timeline of the cells with the files and datasets they read and
 * wrote, the graph of which cell read what another wrote, "Export RO-Crate", "Open crate"
 * for a reviewer, and the replay in a fresh kernel with its per-cell report.
 */
import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  IToolbarWidgetRegistry,
  MainAreaWidget
} from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { INotebookTracker, type NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { followSettings, IProvenanceRecorder } from '@espri-vre/core';
import { provenanceIcon } from './icons';
import { METADATA_KEY, RecordingIndicator } from './indicator';
import { ProvenanceService, type IProvenanceMetadata } from './model';
import { ProvenancePanel, type ProvenanceView } from './panel';
import { ProvenanceRecorder } from './recorder';

export * from './model';
export { ReadWriteGraph } from './graph';
export { METADATA_KEY, RecordingIndicator } from './indicator';
export { ProvenancePanel } from './panel';
export { ReportView } from './report';
export {
  kernelIdentifiers,
  kernelLocation,
  ProvenanceRecorder,
  recordDatasetExpression
} from './recorder';
export type { ProvenanceView } from './panel';
export type * from './events.generated';

/**
 * The command ids of this package.
 */
export namespace CommandIDs {
  export const timeline = 'espri-vre:provenance-timeline';
  export const exportCrate = 'espri-vre:provenance-export';
  export const openCrate = 'espri-vre:provenance-open-crate';
  export const openReport = 'espri-vre:provenance-open-report';
}

const PLUGIN_ID = '@espri-vre/provenance:plugin';

/**
 * The toolbar item's name (see schema/plugin.json: jupyter.lab.toolbars).
 */
export const TOOLBAR_ITEM = 'espri-vre-provenance';

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'Provenance of notebook runs: recording indicator, timeline, RO-Crate export, replay report.',
  autoStart: true,
  optional: [
    ICommandPalette,
    IDefaultFileBrowser,
    INotebookTracker,
    ISettingRegistry,
    IToolbarWidgetRegistry,
    ITranslator
  ],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    browser: IDefaultFileBrowser | null,
    notebooks: INotebookTracker | null,
    settingRegistry: ISettingRegistry | null,
    toolbarRegistry: IToolbarWidgetRegistry | null,
    translator: ITranslator | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('espri_vre');
    const service = new ProvenanceService(app.serviceManager.serverSettings);
    let keepInMetadata = true;
    const panels = new Map<string, MainAreaWidget<ProvenancePanel>>();

    const keptHash = (notebook: string, run: string): string | null => {
      const panel = notebooks?.find(p => p.context.path === notebook);
      const kept = (
        panel?.content.model?.getMetadata(METADATA_KEY) as
          { provenance?: IProvenanceMetadata } | undefined
      )?.provenance;
      return kept && kept.run === run ? kept.last_hash : null;
    };

    const open = (view: ProvenanceView): MainAreaWidget<ProvenancePanel> => {
      const key =
        view.kind === 'timeline'
          ? `timeline:${view.notebook}`
          : `${view.kind}:${view.path}`;
      panels.get(key)?.dispose();
      const content = new ProvenancePanel({
        view,
        service,
        trans,
        openPath: path =>
          void app.commands.execute('docmanager:open', { path }),
        openView: next => void open(next),
        kernelId: notebook =>
          notebooks?.find(p => p.context.path === notebook)?.sessionContext
            .session?.kernel?.id ?? null,
        keptHash,
        cellOf: (notebook, execution) => {
          const cells = notebooks?.find(p => p.context.path === notebook)
            ?.content.model?.cells;
          for (let i = 0; cells && i < cells.length; i++) {
            const cell = cells.get(i);
            if (
              execution.cellId
                ? cell.id === execution.cellId
                : execution.source !== null &&
                  cell.sharedModel.getSource() === execution.source
            ) {
              return cell;
            }
          }
          return null;
        }
      });
      const widget = new MainAreaWidget({ content });
      widget.id = `espri-vre-provenance-${key.replace(/[^A-Za-z0-9_-]/g, '-')}`;
      widget.title.label = content.title.label;
      widget.title.icon = provenanceIcon;
      widget.title.closable = true;
      widget.disposed.connect(() => {
        if (panels.get(key) === widget) {
          panels.delete(key);
        }
      });
      panels.set(key, widget);
      app.shell.add(widget, 'main');
      app.shell.activateById(widget.id);
      return widget;
    };

    /** The path given, else the file browser's selection, else the current notebook. */
    const target = (
      args: Record<string, unknown>,
      notebook: boolean
    ): string | null => {
      if (typeof args['path'] === 'string' && args['path']) {
        return args['path'];
      }
      if (args['isContextMenu'] && browser) {
        const item = browser.selectedItems().next();
        if (item && !item.done) {
          return item.value.path;
        }
      }
      return notebook ? (notebooks?.currentWidget?.context.path ?? null) : null;
    };

    app.commands.addCommand(CommandIDs.timeline, {
      label: trans.__('Show Provenance Timeline'),
      caption: trans.__(
        'The recorded runs of this notebook: cells, files, datasets, environment'
      ),
      icon: args => (args['isPalette'] ? undefined : provenanceIcon),
      isEnabled: args => target(args, true) !== null,
      execute: args => {
        const notebook = target(args, true);
        if (notebook) {
          const run = typeof args['run'] === 'string' ? args['run'] : null;
          return open({ kind: 'timeline', notebook, run });
        }
        return null;
      }
    });
    app.commands.addCommand(CommandIDs.exportCrate, {
      label: trans.__('Export Provenance as RO-Crate'),
      isEnabled: args => target(args, true) !== null,
      execute: async args => {
        const notebook = target(args, true);
        if (notebook) {
          const done = await service.exportCrate(notebook);
          return open({ kind: 'crate', path: done.crate });
        }
        return null;
      }
    });
    app.commands.addCommand(CommandIDs.openCrate, {
      label: trans.__('Open as RO-Crate'),
      caption: trans.__('What a crate holds, and its replay in a fresh kernel'),
      isEnabled: args => target(args, false) !== null,
      execute: args => {
        const path = target(args, false);
        if (path) {
          return open({ kind: 'crate', path });
        }
        return null;
      }
    });
    app.commands.addCommand(CommandIDs.openReport, {
      label: trans.__('Open Replay Report'),
      isEnabled: args => target(args, false) !== null,
      execute: args => {
        const path = target(args, false);
        if (path) {
          return open({ kind: 'report', path });
        }
        return null;
      }
    });
    for (const command of [CommandIDs.timeline, CommandIDs.exportCrate]) {
      palette?.addItem({ command, category: trans.__('ESPRI VRE') });
    }
    app.contextMenu.addItem({
      command: CommandIDs.timeline,
      args: { isContextMenu: true },
      selector: '.jp-DirListing-item[data-file-type="notebook"]',
      rank: 4
    });
    app.contextMenu.addItem({
      command: CommandIDs.openCrate,
      args: { isContextMenu: true },
      selector: '.jp-DirListing-item[data-isdir="true"]',
      rank: 4
    });
    app.contextMenu.addItem({
      command: CommandIDs.openReport,
      args: { isContextMenu: true },
      selector: '.jp-DirListing-item[data-isdir="true"]',
      rank: 5
    });

    toolbarRegistry?.addFactory<NotebookPanel>(
      'Notebook',
      TOOLBAR_ITEM,
      panel =>
        new RecordingIndicator({
          panel,
          service,
          trans,
          keepInMetadata: () => keepInMetadata,
          openTimeline: run =>
            void open({ kind: 'timeline', notebook: panel.context.path, run })
        })
    );

    followSettings(settingRegistry, PLUGIN_ID, settings => {
      keepInMetadata = settings.get('keepInMetadata').composite as boolean;
    });
  }
};

/**
 * Provides IProvenanceRecorder: the Catalogue Browser's "Add to provenance" records a
 * dataset through the kernel of the notebook it is added to.
 */
const recorderPlugin: JupyterFrontEndPlugin<IProvenanceRecorder> = {
  id: '@espri-vre/provenance:recorder',
  description:
    'Adds datasets picked in the user interface to the provenance their notebook records.',
  autoStart: true,
  provides: IProvenanceRecorder,
  requires: [INotebookTracker],
  optional: [ITranslator],
  activate: (
    _app: JupyterFrontEnd,
    notebooks: INotebookTracker,
    translator: ITranslator | null
  ): IProvenanceRecorder =>
    new ProvenanceRecorder({
      trans: (translator ?? nullTranslator).load('espri_vre'),
      kernelOf: path =>
        notebooks.find(panel => panel.context.path === path)?.sessionContext
          .session?.kernel ?? null
    })
};

export default [plugin, recorderPlugin];
