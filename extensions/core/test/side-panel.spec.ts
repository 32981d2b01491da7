// @vitest-environment jsdom
import type { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import type { ICommandPalette } from '@jupyterlab/apputils';
import { CommandRegistry } from '@lumino/commands';
import { Widget } from '@lumino/widgets';
import { describe, expect, it } from 'vitest';
import { addSidePanel } from '../src/side-panel';

/** The parts of JupyterLab that a side panel meets, recording what they are asked. */
function fakeLab(): {
  app: JupyterFrontEnd;
  added: { widget: Widget; area: string; rank: number | undefined }[];
  activated: string[];
  restored: { widget: Widget; name: string }[];
  restorer: ILayoutRestorer;
  paletteItems: { command: string; category: string }[];
  palette: ICommandPalette;
} {
  const added: { widget: Widget; area: string; rank: number | undefined }[] =
    [];
  const activated: string[] = [];
  const restored: { widget: Widget; name: string }[] = [];
  const paletteItems: { command: string; category: string }[] = [];
  const app = {
    commands: new CommandRegistry(),
    shell: {
      add: (widget: Widget, area: string, options?: { rank?: number }) =>
        added.push({ widget, area, rank: options?.rank }),
      activateById: (id: string) => activated.push(id)
    }
  } as unknown as JupyterFrontEnd;
  const restorer = {
    add: (widget: Widget, name: string) => restored.push({ widget, name })
  } as unknown as ILayoutRestorer;
  const palette = {
    addItem: (item: { command: string; category: string }) =>
      paletteItems.push(item)
  } as unknown as ICommandPalette;
  return {
    app,
    added,
    activated,
    restored,
    restorer,
    paletteItems,
    palette
  };
}

const COMMAND = {
  command: 'espri-vre:open-test-panel',
  label: 'Open Test Panel',
  caption: 'Show the test panel',
  category: 'ESPRI VRE'
};

function panel(): Widget {
  const widget = new Widget();
  widget.id = 'espri-vre-test-panel';
  widget.title.icon = { render: () => undefined };
  return widget;
}

/** A panel added to a fake JupyterLab, without a restorer and a palette when `bare`. */
function added(options: { bare: boolean }): {
  lab: ReturnType<typeof fakeLab>;
  widget: Widget;
} {
  const lab = fakeLab();
  const widget = panel();
  addSidePanel(lab.app, widget, {
    ...COMMAND,
    rank: 260,
    restorer: options.bare ? null : lab.restorer,
    palette: options.bare ? null : lab.palette
  });
  return { lab, widget };
}

describe('addSidePanel', () => {
  it('adds the panel to the left sidebar at its rank, restored by its id', () => {
    const { lab, widget } = added({ bare: false });
    expect(lab.added).toEqual([{ widget, area: 'left', rank: 260 }]);
    expect(lab.restored).toEqual([{ widget, name: 'espri-vre-test-panel' }]);
  });

  it('adds the command that shows the panel, in the palette without its icon', async () => {
    const { lab, widget } = added({ bare: false });
    const commands = lab.app.commands;
    expect(commands.label('espri-vre:open-test-panel')).toBe('Open Test Panel');
    expect(commands.caption('espri-vre:open-test-panel')).toBe(
      'Show the test panel'
    );
    expect(commands.icon('espri-vre:open-test-panel')).toBe(widget.title.icon);
    expect(
      commands.icon('espri-vre:open-test-panel', { isPalette: true })
    ).toBeUndefined();
    expect(lab.paletteItems).toEqual([
      { command: 'espri-vre:open-test-panel', category: 'ESPRI VRE' }
    ]);

    await commands.execute('espri-vre:open-test-panel');
    expect(lab.activated).toEqual(['espri-vre-test-panel']);
  });

  it('works without a layout restorer and a palette', async () => {
    const { lab, widget } = added({ bare: true });
    expect(lab.added).toEqual([{ widget, area: 'left', rank: 260 }]);
    await lab.app.commands.execute('espri-vre:open-test-panel');
    expect(lab.activated).toEqual(['espri-vre-test-panel']);
  });
});
