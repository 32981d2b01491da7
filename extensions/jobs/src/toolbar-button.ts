import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { IToolbarWidgetRegistry } from '@jupyterlab/apputils';
import { CommandToolbarButton } from '@jupyterlab/ui-components';
import type { Widget } from '@lumino/widgets';

/** The name of the notebook toolbar's item, as schema/submit.json declares it. */
export const SUBMIT_TOOLBAR_ITEM = 'espri-vre-submit-job';

/**
 * Make the notebook toolbar's "Submit as Job" button show its label beside the icon.
 *
 * JupyterLab's default factory for a toolbar item of the settings drops the command's
 * label when the command has an icon (the Jobs icon alone looked like the Jobs panel's
 * button); a label written in the schema would not be translated. So the item gets a
 * factory of its own: the command's button with the command's (translated) label.
 */
export function addSubmitToolbarButton(
  registry: IToolbarWidgetRegistry,
  commands: JupyterFrontEnd['commands'],
  command: string
): void {
  registry.addFactory<Widget>('Notebook', SUBMIT_TOOLBAR_ITEM, () =>
    createSubmitToolbarButton(commands, command)
  );
}

/** The labelled button (exported for its test). */
export function createSubmitToolbarButton(
  commands: JupyterFrontEnd['commands'],
  command: string
): CommandToolbarButton {
  // The same arguments as JupyterLab's default factory gives a settings' item; the
  // label is asked of the command at each render, as the default's would be.
  return new CommandToolbarButton({
    commands,
    id: command,
    args: { toolbar: true },
    label: args => commands.label(command, args)
  });
}
