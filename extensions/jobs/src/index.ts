/**
 * @packageDocumentation
 * The Jobs panel of the espri-vre suite, the job service behind it, and "Submit as
 * job" for scripts, Python files and notebooks.
 */
import {
  addMainAreaPanel,
  addSidePanel,
  followSettings,
  IJobService
} from '@espri-vre/core';
import {
  ILayoutRestorer,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  IToolbarWidgetRegistry,
  MainAreaWidget,
  Notification,
  WidgetTracker
} from '@jupyterlab/apputils';
import { PageConfig } from '@jupyterlab/coreutils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { ILauncher } from '@jupyterlab/launcher';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import type { PartialJSONObject } from '@lumino/coreutils';
import { type ColumnWidths, ColumnWidthsModel } from './columns';
import { jobsIcon } from './icons';
import { contentsPath } from './job-view';
import { JobNotifier } from './notifier';
import { JobsPanel } from './panel';
import { JobService } from './service';
import { isPipelineFile, jobKind, type IJobPreset } from './spec-form';
import { SubmitJobWidget } from './submit-form';
import { addSubmitToolbarButton } from './toolbar-button';

export { JobRefusedError, JobService } from './service';
export { JOBS_PANEL_ID, JobsPanel } from './panel';
export { SubmitJobWidget } from './submit-form';

/**
 * The command ids of this package.
 */
export namespace CommandIDs {
  export const openJobsPanel = 'espri-vre:open-jobs-panel';
  export const openJobsTab = 'espri-vre:open-jobs-tab';
  export const submitJob = 'espri-vre:submit-job';
  export const runPipeline = 'espri-vre:run-pipeline';
}

const PANEL_PLUGIN_ID = '@espri-vre/jobs:panel';
const SUBMIT_PLUGIN_ID = '@espri-vre/jobs:submit';

/**
 * Seconds between two asks for the ends not told yet (the server asks the clusters,
 * through the snapshot of the queue that the panels share).
 */
const NOTIFY_SECONDS = 10;

/**
 * Provides the job service and adds the Jobs panel to the left sidebar.
 */
const panelPlugin: JupyterFrontEndPlugin<IJobService> = {
  id: PANEL_PLUGIN_ID,
  description:
    'The Jobs panel: the jobs on the configured clusters, their details and logs; notifies when a job submitted here ends.',
  autoStart: true,
  provides: IJobService,
  optional: [
    ICommandPalette,
    ILayoutRestorer,
    ISettingRegistry,
    ITranslator,
    ILauncher
  ],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null,
    launcher: ILauncher | null
  ): IJobService => {
    const trans = (translator ?? nullTranslator).load('espri_vre');
    const service = new JobService({
      serverSettings: app.serviceManager.serverSettings
    });
    const open = (path: string): void => {
      const inside = contentsPath(path, PageConfig.getOption('serverRoot'));
      if (inside === null) {
        Notification.warning(
          trans.__(
            '%1 is outside the folder JupyterLab serves: open it from a terminal.',
            path
          )
        );
        return;
      }
      void app.commands.execute('docmanager:open', { path: inside });
    };
    // From the settings once they are read: a tab opened later refreshes as the panel.
    let refreshSeconds: number | null = null;
    let panelSettings: ISettingRegistry.ISettings | null = null;
    // The sidebar's narrow table and the tabs' wide one keep widths of their own.
    const saveWidths =
      (place: 'sidebar' | 'tab') =>
      async (widths: ColumnWidths): Promise<void> => {
        if (!panelSettings) {
          return;
        }
        const all = (panelSettings.get('columnWidths').composite ??
          {}) as PartialJSONObject;
        await panelSettings.set('columnWidths', {
          ...all,
          [place]: widths as PartialJSONObject
        });
      };
    const sidebarColumns = new ColumnWidthsModel(saveWidths('sidebar'));
    const tabColumns = new ColumnWidthsModel(saveWidths('tab'));
    const newPanel = (columns: ColumnWidthsModel): JobsPanel => {
      const jobs = new JobsPanel({
        service,
        trans,
        columns,
        onSubmit: () => {
          if (app.commands.hasCommand(CommandIDs.submitJob)) {
            void app.commands.execute(CommandIDs.submitJob);
          }
        },
        onOpen: path => open(path)
      });
      if (refreshSeconds !== null) {
        jobs.refreshSeconds = refreshSeconds;
      }
      return jobs;
    };
    const panel = newPanel(sidebarColumns);
    addSidePanel(app, panel, {
      command: CommandIDs.openJobsPanel,
      label: trans.__('Open Jobs Panel'),
      caption: trans.__(
        'Show the jobs on the clusters, their details and their logs'
      ),
      category: trans.__('ESPRI VRE'),
      // After the Data panel (250).
      rank: 260,
      restorer,
      palette
    });

    // The same panel as a main-area tab, where names, tags and logs have room.
    const tabs = addMainAreaPanel(app, {
      command: CommandIDs.openJobsTab,
      label: trans.__('Open Jobs Tab'),
      launcherLabel: trans.__('Jobs'),
      caption: trans.__(
        'Show the jobs on the clusters, their details and their logs in the main area'
      ),
      title: trans.__('Jobs'),
      icon: jobsIcon,
      category: trans.__('ESPRI VRE'),
      namespace: 'espri-vre-jobs',
      create: () => newPanel(tabColumns),
      tracker: new WidgetTracker<MainAreaWidget<JobsPanel>>({
        namespace: 'espri-vre-jobs'
      }),
      wrap: content => new MainAreaWidget({ content }),
      restorer,
      palette
    });
    launcher?.add({
      command: CommandIDs.openJobsTab,
      args: { isLauncher: true },
      category: trans.__('ESPRI VRE'),
      rank: 30
    });

    const notifier = new JobNotifier({
      service,
      trans,
      onShowLog: job => {
        app.shell.activateById(panel.id);
        panel.showJob(job);
      },
      onOpen: open
    });
    // An end seen by the panel's own refresh is told at once, not at the next tick.
    service.jobEnded.connect(() => {
      notifier.check().catch(() => undefined);
    });
    void app.restored.then(() => notifier.start(NOTIFY_SECONDS));

    followSettings(settingRegistry, PANEL_PLUGIN_ID, settings => {
      panelSettings = settings;
      const widths = (settings.get('columnWidths').composite ?? {}) as Record<
        string,
        unknown
      >;
      sidebarColumns.load(widths['sidebar']);
      tabColumns.load(widths['tab']);
      const seconds = settings.get('refreshSeconds').composite as number;
      refreshSeconds = seconds;
      panel.refreshSeconds = seconds;
      tabs.forEach(tab => (tab.content.refreshSeconds = seconds));
      notifier.enabled = settings.get('notifyWhenJobsEnd').composite as boolean;
    });

    return service;
  }
};

/**
 * "Submit as job": the command, in the palette, the file browser's context menu and
 * the notebook toolbar (see schema/submit.json), opening the submission form.
 */
const submitPlugin: JupyterFrontEndPlugin<void> = {
  id: SUBMIT_PLUGIN_ID,
  description:
    'Submit a shell script, Python file or notebook as a job, with presets from the settings.',
  autoStart: true,
  requires: [IJobService],
  optional: [
    ICommandPalette,
    IDefaultFileBrowser,
    IDocumentManager,
    ISettingRegistry,
    ITranslator,
    ILauncher,
    IToolbarWidgetRegistry
  ],
  activate: (
    app: JupyterFrontEnd,
    jobService: IJobService,
    palette: ICommandPalette | null,
    fileBrowser: IDefaultFileBrowser | null,
    docManager: IDocumentManager | null,
    settingRegistry: ISettingRegistry | null,
    translator: ITranslator | null,
    launcher: ILauncher | null,
    toolbarRegistry: IToolbarWidgetRegistry | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('espri_vre');
    // The form needs the clusters, the preview and the refusals' field problems, which
    // the token does not offer: another provider of it gets a service of our own.
    const service =
      jobService instanceof JobService
        ? jobService
        : new JobService({ serverSettings: app.serviceManager.serverSettings });
    let presets: IJobPreset[] = [];

    const selectedFile = (): string | null => {
      const item = fileBrowser?.selectedItems().next();
      return item && !item.done && item.value.type !== 'directory'
        ? item.value.path
        : null;
    };
    const currentFile = (): string | null => {
      const widget = app.shell.currentWidget;
      return (widget && docManager?.contextForWidget(widget)?.path) ?? null;
    };
    const target = (args: Record<string, unknown>): string => {
      if (typeof args['path'] === 'string') {
        return args['path'];
      }
      return (
        (args['origin'] === 'filebrowser' ? selectedFile() : currentFile()) ??
        ''
      );
    };

    app.commands.addCommand(CommandIDs.submitJob, {
      label: args =>
        args['isLauncher']
          ? trans.__('Submit a Job')
          : args['isPalette']
            ? trans.__('Submit as Job…')
            : trans.__('Submit as Job'),
      caption: trans.__(
        'Run a shell script, Python file or notebook on a cluster'
      ),
      icon: args => (args['isPalette'] ? undefined : jobsIcon),
      isVisible: args =>
        args['origin'] !== 'filebrowser' || jobKind(target(args)) !== null,
      execute: args => {
        const path = target(args);
        const widget = new SubmitJobWidget({
          service,
          trans,
          path,
          presets,
          onSubmitted: () => {
            widget.close();
            void service.refresh().catch(() => undefined);
            if (app.commands.hasCommand(CommandIDs.openJobsPanel)) {
              void app.commands.execute(CommandIDs.openJobsPanel);
            }
          },
          onScheduled: () => {
            widget.close();
            if (app.commands.hasCommand(CommandIDs.openJobsPanel)) {
              void app.commands.execute(CommandIDs.openJobsPanel);
            }
          }
        });
        if (path === '') {
          // From the launcher: no file yet, the form asks for it.
          widget.title.label = trans.__('Submit a Job');
        }
        // A tab of its own: a split pane squeezed the other tabs' labels.
        app.shell.add(widget, 'main');
        app.shell.activateById(widget.id);
        return widget;
      }
    });
    if (toolbarRegistry) {
      addSubmitToolbarButton(
        toolbarRegistry,
        app.commands,
        CommandIDs.submitJob
      );
    }
    palette?.addItem({
      command: CommandIDs.submitJob,
      category: trans.__('ESPRI VRE')
    });
    launcher?.add({
      command: CommandIDs.submitJob,
      args: { isLauncher: true },
      category: trans.__('ESPRI VRE'),
      rank: 35
    });
    app.contextMenu.addItem({
      command: CommandIDs.submitJob,
      selector: '.jp-DirListing-item[data-isdir="false"]',
      args: { origin: 'filebrowser' },
      rank: 60
    });

    app.commands.addCommand(CommandIDs.runPipeline, {
      label: trans.__('Run Pipeline'),
      caption: trans.__(
        'Submit every step of this pipeline file, chained by their dependencies'
      ),
      isVisible: args => isPipelineFile(target(args)),
      execute: async args => {
        const path = target(args);
        try {
          const run = await service.runPipeline(path);
          Notification.success(
            trans.__(
              'Pipeline %1: %2 steps submitted.',
              run.name,
              run.steps.length
            ),
            { autoClose: 5000 }
          );
          if (app.commands.hasCommand(CommandIDs.openJobsPanel)) {
            void app.commands.execute(CommandIDs.openJobsPanel);
          }
        } catch (reason) {
          Notification.error(
            trans.__(
              'The pipeline %1 was not run: %2',
              path,
              reason instanceof Error ? reason.message : String(reason)
            ),
            { autoClose: false }
          );
        }
      }
    });
    palette?.addItem({
      command: CommandIDs.runPipeline,
      category: trans.__('ESPRI VRE')
    });
    app.contextMenu.addItem({
      command: CommandIDs.runPipeline,
      selector: '.jp-DirListing-item[data-isdir="false"]',
      args: { origin: 'filebrowser' },
      rank: 61
    });

    followSettings(settingRegistry, SUBMIT_PLUGIN_ID, settings => {
      presets = settings.get('presets').composite as unknown as IJobPreset[];
    });
  }
};

export default [panelPlugin, submitPlugin];
