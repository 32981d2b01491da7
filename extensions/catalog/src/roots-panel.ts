/**
 * The "Data roots" panel of the left sidebar: a picker of the data roots above a
 * JupyterLab file browser on the chosen root's drive, one browser per root (kept, so
 * that each stays in the folder it was left in).
 *
 * Why not the default file browser: a file browser resolves every path against its
 * own drive, so the default one, once in a data root's drive, could not get back to
 * the server root from its breadcrumbs.
 */
import type { FileBrowser } from '@jupyterlab/filebrowser';
import type { TranslationBundle } from '@jupyterlab/translation';
import { folderFavoriteIcon } from '@jupyterlab/ui-components';
import type { Message } from '@lumino/messaging';
import { Panel, StackedPanel, Widget } from '@lumino/widgets';

/** The id of the panel's node (and of the widget in the shell). */
export const DATA_ROOTS_PANEL_ID = 'espri-vre-data-roots';

export class DataRootsPanel extends Panel {
  constructor(options: DataRootsPanel.IOptions) {
    super();
    this._trans = options.trans;
    this._createBrowser = options.createBrowser;
    this.id = DATA_ROOTS_PANEL_ID;
    this.addClass('jp-EspriVre-dataRoots');
    this.title.icon = folderFavoriteIcon;
    this.title.caption = this._trans.__('Data Roots');

    const header = new Widget();
    header.addClass('jp-EspriVre-dataRootsHeader');
    const label = document.createElement('label');
    label.textContent = this._trans.__('Data root');
    this._picker = document.createElement('select');
    this._picker.className = 'jp-mod-styled jp-EspriVre-dataRootPicker';
    this._picker.addEventListener('change', () => {
      void this.showRoot(this._picker.value);
    });
    label.appendChild(this._picker);
    header.node.appendChild(label);
    this._empty = document.createElement('p');
    this._empty.className = 'jp-EspriVre-empty';
    this._empty.textContent = this._trans.__(
      'No data root is reachable: the Data panel says why.'
    );
    header.node.appendChild(this._empty);
    this.addWidget(header);
    this._stack.addClass('jp-EspriVre-dataRootsStack');
    this.addWidget(this._stack);
  }

  /** The root shown, if any. */
  get current(): string | null {
    return this._current;
  }

  /** The file browsers of the roots opened so far. */
  get browsers(): ReadonlyMap<string, FileBrowser> {
    return this._browsers;
  }

  /** Set the roots the picker offers: (id, title) pairs. */
  setRoots(roots: readonly { id: string; title: string }[]): void {
    this._picker.replaceChildren(
      ...roots.map(root => {
        const option = document.createElement('option');
        option.value = root.id;
        option.textContent = root.title;
        return option;
      })
    );
    this._picker.hidden = roots.length === 0;
    this._empty.hidden = roots.length > 0;
    this._roots = roots.map(root => root.id);
    if (this._current !== null) {
      this._picker.value = this._current;
    } else if (this.isVisible) {
      this._showFirst();
    }
  }

  /** Show the root's file browser (created the first time). */
  async showRoot(id: string): Promise<FileBrowser> {
    let browser = this._browsers.get(id);
    if (browser === undefined) {
      browser = this._createBrowser(id);
      this._browsers.set(id, browser);
      this._stack.addWidget(browser);
    }
    for (const other of this._browsers.values()) {
      other.setHidden(other !== browser);
    }
    this._current = id;
    this._picker.value = id;
    return browser;
  }

  /**
   * The first root's browser is made when the panel is first shown, not at start-up:
   * a file browser lists its folder again every few seconds.
   */
  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (this._current === null) {
      this._showFirst();
    }
  }

  private _showFirst(): void {
    if (this._roots.length > 0) {
      void this.showRoot(this._roots[0]);
    }
  }

  private _roots: string[] = [];
  private _trans: TranslationBundle;
  private _createBrowser: (id: string) => FileBrowser;
  private _picker: HTMLSelectElement;
  private _empty: HTMLParagraphElement;
  private _stack = new StackedPanel();
  private _browsers = new Map<string, FileBrowser>();
  private _current: string | null = null;
}

export namespace DataRootsPanel {
  export interface IOptions {
    trans: TranslationBundle;
    /** A file browser on the drive of the data root with this id. */
    createBrowser: (id: string) => FileBrowser;
  }
}
