// @vitest-environment jsdom
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { LabShell, LayoutRestorer } from '@jupyterlab/application';
import { LauncherModel } from '@jupyterlab/launcher';
import { ServerConnection } from '@jupyterlab/services';
import { StateDB } from '@jupyterlab/statedb';
import { CommandRegistry } from '@lumino/commands';
import { ContextMenu, type Widget } from '@lumino/widgets';
import { describe, expect, it, vi } from 'vitest';
import plugins, { CommandIDs } from '../src/index';

// jsdom has no ResizeObserver, which a MainAreaWidget's toolbar observes: an inert
// one, as JupyterLab's own test shim (@jupyterlab/testing) installs.
globalThis.ResizeObserver ??= class {
  observe(): void {
    return;
  }
  unobserve(): void {
    return;
  }
  disconnect(): void {
    return;
  }
};

/**
 * The jobs plugins activated in JupyterLab's own shell, layout restorer (over an
 * in-memory state database, as the workspace is) and launcher model. No server is
 * asked: the panels are not on a page, so they never become visible and never poll.
 * `restored` resolves as JupyterLab's start-up does: the shell given the restorer,
 * whose saved layout it fetches (running the trackers' restore commands); the shell
 * shows main-area widgets only from then on.
 */
function lab(state: StateDB): {
  app: JupyterFrontEnd;
  shell: LabShell;
  launcher: LauncherModel;
  restored: Promise<void>;
} {
  const commands = new CommandRegistry();
  const shell = new LabShell();
  const app = {
    commands,
    shell,
    contextMenu: new ContextMenu({ commands }),
    serviceManager: {
      serverSettings: ServerConnection.makeSettings({
        baseUrl: 'http://127.0.0.1:9/'
      })
    },
    // The notifier starts once the workspace is restored: not in these tests.
    restored: new Promise<void>(() => undefined)
  } as unknown as JupyterFrontEnd;
  const restorer = new LayoutRestorer({
    connector: state,
    first: Promise.resolve(),
    registry: commands
  });
  const launcher = new LauncherModel();
  const [panelPlugin, submitPlugin] = plugins;
  // optional: palette, restorer, settings, translator, launcher
  const service = panelPlugin.activate(
    app,
    null,
    restorer,
    null,
    null,
    launcher
  );
  // requires: the job service; optional: palette, file browser, documents, settings,
  // translator, launcher
  submitPlugin.activate(app, service, null, null, null, null, null, launcher);
  const restored = shell.restoreLayout('multiple-document', restorer);
  return { app, shell, launcher, restored };
}

function mainIds(shell: LabShell): string[] {
  return Array.from(shell.widgets('main'), (widget: Widget) => widget.id);
}

describe('the Jobs tab and the launcher cards', () => {
  it('puts Jobs and Submit a Job in the launcher, in rank order, with their labels', () => {
    const { app, launcher } = lab(new StateDB());
    const cards = Array.from(launcher.items()).filter(
      item => item.category === 'ESPRI VRE'
    );
    expect(cards.map(card => [card.command, card.rank])).toEqual([
      [CommandIDs.openJobsTab, 30],
      [CommandIDs.submitJob, 35]
    ]);
    expect(
      cards.map(card => app.commands.label(card.command, card.args))
    ).toEqual(['Jobs', 'Submit a Job']);
    expect(app.commands.label(CommandIDs.openJobsTab)).toBe('Open Jobs Tab');
    expect(app.commands.icon(CommandIDs.openJobsTab)).toBeDefined();
  });

  it('opens one Jobs tab in the main area, beside the sidebar panel', async () => {
    const { app, shell, restored } = lab(new StateDB());
    await restored;
    const first = await app.commands.execute(CommandIDs.openJobsTab);
    const again = await app.commands.execute(CommandIDs.openJobsTab);
    expect(again).toBe(first);
    expect(mainIds(shell)).toEqual(['espri-vre-jobs']);
    expect(first.content.id).toBe('espri-vre-jobs-content');
    expect(first.title.label).toBe('Jobs');
    expect(first.title.closable).toBe(true);
    // The sidebar panel stays, with its own id.
    expect(
      Array.from(shell.widgets('left'), (widget: Widget) => widget.id)
    ).toContain('espri-vre-jobs-panel');
  });

  it('opens the submission form from the launcher as a tab of its own', async () => {
    const { app, shell, restored } = lab(new StateDB());
    await restored;
    const jobs = await app.commands.execute(CommandIDs.openJobsTab);
    const form = await app.commands.execute(CommandIDs.submitJob, {
      isLauncher: true
    });
    expect(form.title.label).toBe('Submit a Job');
    // A tab beside the others, not a split pane that squeezes their labels.
    const area = shell.saveLayout().mainArea?.dock?.main;
    expect(area?.type).toBe('tab-area');
    expect(
      area?.type === 'tab-area' ? area.widgets.map(widget => widget.id) : []
    ).toEqual([jobs.id, form.id]);
  });

  it('comes back after a reload when it was open, and not once closed', async () => {
    const state = new StateDB();
    const before = lab(state);
    await before.restored;
    const tab = await before.app.commands.execute(CommandIDs.openJobsTab);
    await vi.waitFor(async () =>
      expect(await state.list('espri-vre-jobs')).toEqual({
        ids: ['espri-vre-jobs:espri-vre-jobs'],
        values: [{ data: {} }]
      })
    );

    // A reload: a new shell and commands over the same saved state.
    const after = lab(state);
    await after.restored;
    await vi.waitFor(() =>
      expect(mainIds(after.shell)).toEqual(['espri-vre-jobs'])
    );

    tab.close();
    after.shell.currentWidget?.close();
    await vi.waitFor(async () =>
      expect((await state.list('espri-vre-jobs')).ids).toEqual([])
    );
    const third = lab(state);
    await third.restored;
    expect(mainIds(third.shell)).toEqual([]);
  });
});
