import type { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import type { ICommandPalette } from '@jupyterlab/apputils';
import type { Widget } from '@lumino/widgets';

/**
 * Add a panel to the left sidebar, restored where the user left it, with the command
 * (in the palette too) that shows it. The command's icon is the panel's, except in the
 * palette, which lists commands without icons.
 *
 * The panel needs its `id` and its `title.icon` set before it is added.
 */
export function addSidePanel(
  app: JupyterFrontEnd,
  panel: Widget,
  options: addSidePanel.IOptions
): void {
  const { command, label, caption, category, rank } = options;
  app.shell.add(panel, 'left', { rank });
  options.restorer?.add(panel, panel.id);
  app.commands.addCommand(command, {
    label,
    caption,
    icon: args => (args['isPalette'] ? undefined : panel.title.icon),
    execute: () => {
      app.shell.activateById(panel.id);
    }
  });
  options.palette?.addItem({ command, category });
}

export namespace addSidePanel {
  export interface IOptions {
    /** The id of the command that shows the panel. */
    command: string;
    label: string;
    caption: string;
    /** The palette's category of the command. */
    category: string;
    /** The panel's place among the sidebar's (the file browser is 100). */
    rank: number;
    restorer: ILayoutRestorer | null;
    palette: ICommandPalette | null;
  }
}
