// @vitest-environment jsdom
import './observers';
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { LabShell, LayoutRestorer } from '@jupyterlab/application';
import { LauncherModel } from '@jupyterlab/launcher';
import { ServerConnection } from '@jupyterlab/services';
import { StateDB } from '@jupyterlab/statedb';
import { CommandRegistry } from '@lumino/commands';
import type { Widget } from '@lumino/widgets';
import { describe, expect, it, vi } from 'vitest';
import plugin, { CommandIDs } from '../src/index';

/**
 * The Dask plugin activated in JupyterLab's own shell, layout restorer (over an
 * in-memory state database, as the workspace is) and launcher model; the panels are
 * not on a page, so they never poll the server.
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
    serviceManager: {
      serverSettings: ServerConnection.makeSettings({
        baseUrl: 'http://127.0.0.1:9/'
      })
    }
  } as unknown as JupyterFrontEnd;
  const restorer = new LayoutRestorer({
    connector: state,
    first: Promise.resolve(),
    registry: commands
  });
  const launcher = new LauncherModel();
  // optional: palette, restorer, notebooks, settings, translator, launcher
  plugin.activate(app, null, restorer, null, null, null, launcher);
  const restored = shell.restoreLayout('multiple-document', restorer);
  return { app, shell, launcher, restored };
}

function mainIds(shell: LabShell): string[] {
  return Array.from(shell.widgets('main'), (widget: Widget) => widget.id);
}

describe('the Dask tab and its launcher card', () => {
  it('has a Dask card that opens the tab, beside the sidebar panel', async () => {
    const { app, shell, launcher, restored } = lab(new StateDB());
    await restored;
    const cards = Array.from(launcher.items());
    expect(cards.map(card => [card.command, card.rank])).toEqual([
      [CommandIDs.openDaskTab, 40]
    ]);
    expect(app.commands.label(cards[0].command, cards[0].args)).toBe('Dask');
    const tab = await app.commands.execute(cards[0].command, cards[0].args);
    expect(await app.commands.execute(CommandIDs.openDaskTab)).toBe(tab);
    expect(mainIds(shell)).toEqual(['espri-vre-dask']);
    expect(tab.content.id).toBe('espri-vre-dask-content');
    expect(
      Array.from(shell.widgets('left'), (widget: Widget) => widget.id)
    ).toContain('espri-vre-dask-panel');
  });

  it('comes back after a reload', async () => {
    const state = new StateDB();
    const before = lab(state);
    await before.restored;
    await before.app.commands.execute(CommandIDs.openDaskTab);
    await vi.waitFor(async () =>
      expect((await state.list('espri-vre-dask')).ids).toEqual([
        'espri-vre-dask:espri-vre-dask'
      ])
    );
    const after = lab(state);
    await after.restored;
    await vi.waitFor(() =>
      expect(mainIds(after.shell)).toEqual(['espri-vre-dask'])
    );
  });
});
