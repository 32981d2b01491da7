import type { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import type {
  ICommandPalette,
  MainAreaWidget,
  WidgetTracker
} from '@jupyterlab/apputils';
import type { Widget } from '@lumino/widgets';

/**
 * Add the command that opens a panel as one tab of the main area (where a wide table
 * and a log have room), reopened by a reload when it was open (`ILayoutRestorer`), and
 * listed in the palette. One tab at a time: the command shows the open one again.
 *
 * `create` makes the tab's content; its `id` is replaced by the tab's own (`namespace`
 * with `-content`), so that it may be the same class as a sidebar panel without two
 * nodes sharing an id. Returns the tracker of the tab, for a caller that needs it.
 *
 * Used by the Jobs and Dask extensions. The caller gives the tracker and how a tab
 * wraps its content (`new MainAreaWidget(...)`): this package imports only types of
 * JupyterLab's UI, so that what it holds (tokens, types, the REST client) also loads
 * where there is no DOM (the suite's node tests).
 */
export function addMainAreaPanel<T extends Widget>(
  app: JupyterFrontEnd,
  options: addMainAreaPanel.IOptions<T>
): WidgetTracker<MainAreaWidget<T>> {
  const { command, namespace, icon, tracker } = options;
  app.commands.addCommand(command, {
    label: args => (args['isLauncher'] ? options.launcherLabel : options.label),
    caption: options.caption,
    icon: args => (args['isPalette'] ? undefined : icon),
    execute: async () => {
      let widget = tracker.find(() => true);
      if (!widget) {
        const content = options.create();
        content.id = `${namespace}-content`;
        widget = options.wrap(content);
        widget.id = namespace;
        widget.title.label = options.title;
        widget.title.icon = icon;
        widget.title.closable = true;
        await tracker.add(widget);
      }
      if (!widget.isAttached) {
        app.shell.add(widget, 'main');
      }
      app.shell.activateById(widget.id);
      return widget;
    }
  });
  void options.restorer?.restore(tracker, {
    command,
    name: () => namespace
  });
  options.palette?.addItem({ command, category: options.category });
  return tracker;
}

export namespace addMainAreaPanel {
  export interface IOptions<T extends Widget> {
    /** The id of the command that opens the tab. */
    command: string;
    /** The command's label (menus, palette) and its launcher card's. */
    label: string;
    launcherLabel: string;
    caption: string;
    /** The tab's title. */
    title: string;
    /** The tab's and the command's icon (a LabIcon). */
    icon: Widget['title']['icon'];
    /** The palette's category of the command. */
    category: string;
    /** The tracker's namespace, also the tab's id and its name in the layout. */
    namespace: string;
    create: () => T;
    /** The tabs' tracker, made with `namespace` (`new WidgetTracker({ namespace })`). */
    tracker: WidgetTracker<MainAreaWidget<T>>;
    /** The tab around the content (`content => new MainAreaWidget({ content })`). */
    wrap: (content: T) => MainAreaWidget<T>;
    restorer: ILayoutRestorer | null;
    palette: ICommandPalette | null;
  }
}
