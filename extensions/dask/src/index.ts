/**
 * @packageDocumentation
 * Dask clusters on the centre's clusters: a left-sidebar panel that starts a Dask cluster
 * from a preset of a configured Slurm, Torque or local cluster (through dask-labextension's
 * cluster manager), follows its workers and batch jobs, scales and stops it, opens its
 * dashboards in JupyterLab and gives the code that connects a notebook to it.
 */
import {
  addMainAreaPanel,
  addSidePanel,
  followSettings,
  type DaskRunning
} from '@espri-vre/core';
import {
  ILayoutRestorer,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Clipboard,
  ICommandPalette,
  IFrame,
  MainAreaWidget,
  WidgetTracker
} from '@jupyterlab/apputils';
import { ILauncher } from '@jupyterlab/launcher';
import { INotebookTracker, NotebookActions } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { daskIcon } from './icons';
import { DaskService } from './model';
import { DaskPanel } from './panel';

export { DaskService, jobCounts, presetSummary, startRequest } from './model';
export { DASK_PANEL_ID, DaskPanel } from './panel';

/**
 * The command ids of this package.
 */
export namespace CommandIDs {
  export const openDaskPanel = 'espri-vre:open-dask-panel';
  export const openDaskTab = 'espri-vre:open-dask-tab';
}

const PLUGIN_ID = '@espri-vre/dask:panel';

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description:
    'The Dask panel: Dask clusters on the configured Slurm, Torque and local clusters.',
  autoStart: true,
  optional: [
    ICommandPalette,
    ILayoutRestorer,
    INotebookTracker,
    ISettingRegistry,
    ITranslator,
    ILauncher
  ],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    notebooks: INotebookTracker | null,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null,
    launcher: ILauncher | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('espri_vre');
    const service = new DaskService(app.serviceManager.serverSettings);
    const insertCode = notebooks
      ? (code: string): boolean => {
          const current = notebooks.currentWidget;
          if (!current) {
            return false;
          }
          NotebookActions.insertBelow(current.content);
          current.content.activeCell?.model.sharedModel.setSource(
            code.trimEnd()
          );
          app.shell.activateById(current.id);
          return true;
        }
      : undefined;
    const openDashboard = (
      cluster: DaskRunning,
      page: string,
      label: string
    ): void => {
      const frame = new IFrame({
        sandbox: ['allow-scripts', 'allow-same-origin']
      });
      frame.url = service.dashboardUrl(cluster, page);
      const widget = new MainAreaWidget({ content: frame });
      widget.id = `espri-vre-dask-${cluster.id}-${page}`;
      widget.title.label = `${label}: ${cluster.name}`;
      widget.title.icon = daskIcon;
      widget.title.closable = true;
      app.shell.add(widget, 'main', { mode: 'split-right' });
    };
    // From the settings once they are read: a tab opened later refreshes as the panel.
    let refreshSeconds: number | null = null;
    const newPanel = (): DaskPanel => {
      const dask = new DaskPanel({
        service,
        trans,
        insertCode,
        copyCode: code => Clipboard.copyToSystem(code),
        openDashboard
      });
      if (refreshSeconds !== null) {
        dask.refreshSeconds = refreshSeconds;
      }
      return dask;
    };
    const panel = newPanel();
    addSidePanel(app, panel, {
      command: CommandIDs.openDaskPanel,
      label: trans.__('Open Dask Panel'),
      caption: trans.__('Start Dask clusters on the configured clusters'),
      category: trans.__('ESPRI VRE'),
      // After the Jobs panel (260).
      rank: 270,
      restorer,
      palette
    });
    // The same panel as a main-area tab, with room for the workers and their jobs.
    const tabs = addMainAreaPanel(app, {
      command: CommandIDs.openDaskTab,
      label: trans.__('Open Dask Tab'),
      launcherLabel: trans.__('Dask'),
      caption: trans.__(
        'Start Dask clusters on the configured clusters, in the main area'
      ),
      title: trans.__('Dask'),
      icon: daskIcon,
      category: trans.__('ESPRI VRE'),
      namespace: 'espri-vre-dask',
      create: newPanel,
      tracker: new WidgetTracker<MainAreaWidget<DaskPanel>>({
        namespace: 'espri-vre-dask'
      }),
      wrap: content => new MainAreaWidget({ content }),
      restorer,
      palette
    });
    launcher?.add({
      command: CommandIDs.openDaskTab,
      args: { isLauncher: true },
      category: trans.__('ESPRI VRE'),
      rank: 40
    });

    followSettings(settingRegistry, PLUGIN_ID, settings => {
      const seconds = settings.get('refreshSeconds').composite as number;
      refreshSeconds = seconds;
      panel.refreshSeconds = seconds;
      tabs.forEach(tab => (tab.content.refreshSeconds = seconds));
    });
  }
};

export default plugin;
