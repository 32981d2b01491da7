/**
 * The front end of the Python `espri_vre.preview(obj)` widget (ipywidgets 8,
 * @jupyter-widgets/base 6): the previewer's map view in a notebook output, on a
 * {@link KernelStore} that asks the kernel for each chunk through the widget's
 * comm. One dataset (store, chunk cache, progress) per model: every view of the
 * model and its "Open in a tab" copy share it.
 */
import {
  DOMWidgetModel,
  DOMWidgetView,
  type ISerializers
} from '@jupyter-widgets/base';
import { ReactWidget } from '@jupyterlab/apputils';
import {
  nullTranslator,
  type TranslationBundle
} from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';
import type { ObjectHash } from 'backbone';
import React, { useEffect, useState } from 'react';
import { type CommBuffer, KernelStore } from './kernel-store';
import { type IMapActions, MapView } from './map-view';
import { type Dataset, openZarrStore } from './reader';

export const MODULE_NAME = '@espri-vre/preview';
export const MODULE_VERSION = '0.1.0';

/** What the application gives the widget's views (set by the plugin). */
export interface IKernelPreviewContext {
  trans: TranslationBundle;
  /** The colour map of the user's settings. */
  colormap: () => string;
  /** "Show on globe". */
  actions?: IMapActions;
  /** Puts a widget in the main area; without it there is no "Open in a tab". */
  openInTab?: (widget: Widget) => void;
}

let context: IKernelPreviewContext = {
  trans: nullTranslator.load('espri_vre'),
  colormap: () => 'viridis'
};

export function setKernelPreviewContext(
  value: Partial<IKernelPreviewContext>
): void {
  context = { ...context, ...value };
}

export class PreviewModel extends DOMWidgetModel {
  defaults(): ObjectHash {
    return {
      ...super.defaults(),
      _model_name: PreviewModel.model_name,
      _model_module: PreviewModel.model_module,
      _model_module_version: PreviewModel.model_module_version,
      _view_name: PreviewModel.view_name,
      _view_module: PreviewModel.view_module,
      _view_module_version: PreviewModel.view_module_version,
      title: '',
      zmetadata: '',
      variable: '',
      colormap: ''
    };
  }

  initialize(
    attributes: ObjectHash,
    options: { model_id: string; comm?: unknown; widget_manager: unknown }
  ): void {
    super.initialize(attributes, options as never);
    this.once('comm:close destroy', () => this._store?.dispose());
  }

  /** The object as a dataset, opened on first use. */
  dataset(): Promise<Dataset> {
    if (!this._dataset) {
      const store = new KernelStore(
        {
          send: (content, buffers) =>
            this.send(content as never, undefined, buffers),
          listen: handler => {
            const onCustom = (
              content: Record<string, unknown>,
              buffers?: CommBuffer[]
            ): void => handler(content, buffers ?? []);
            this.on('msg:custom', onCustom);
            return () => this.off('msg:custom', onCustom);
          }
        },
        { zmetadata: String(this.get('zmetadata') ?? '') }
      );
      this._store = store;
      this._dataset = openZarrStore(
        (transfer, onChange) => store.track(transfer, onChange),
        `the kernel's ${String(this.get('title'))}`
      );
    }
    return this._dataset;
  }

  static serializers: ISerializers = { ...DOMWidgetModel.serializers };
  static model_name = 'PreviewModel';
  static model_module = MODULE_NAME;
  static model_module_version = MODULE_VERSION;
  static view_name = 'PreviewView';
  static view_module = MODULE_NAME;
  static view_module_version = MODULE_VERSION;

  private _dataset: Promise<Dataset> | null = null;
  private _store: KernelStore | null = null;
}

interface IKernelPreviewProps {
  model: PreviewModel;
  /** In the notebook output (with "Open in a tab"), or in a tab. */
  inOutput: boolean;
}

function KernelPreview(props: IKernelPreviewProps): JSX.Element {
  const { model, inOutput } = props;
  const { trans, actions, openInTab } = context;
  const title = String(model.get('title'));
  const [dataset, setDataset] = useState<Dataset | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    model.dataset().then(
      d => live && setDataset(d),
      (reason: unknown) =>
        live &&
        setError(reason instanceof Error ? reason.message : String(reason))
    );
    return () => {
      live = false;
    };
  }, [model]);

  return (
    <>
      <div className="jp-EspriVre-previewKernelHeader">
        <span className="jp-EspriVre-previewKernelTitle">
          {trans.__('%1 (in the kernel)', title)}
        </span>
        {inOutput && openInTab ? (
          <button
            type="button"
            className="jp-mod-styled jp-EspriVre-previewOpenTab"
            disabled={!dataset}
            onClick={() => openInTab(new KernelPreviewPanel(model, false))}
          >
            {trans.__('Open in a tab')}
          </button>
        ) : null}
      </div>
      {error !== null ? (
        <div className="jp-EspriVre-previewError" role="alert">
          {error}
        </div>
      ) : dataset ? (
        <MapView
          dataset={dataset}
          trans={trans}
          initialVariable={String(model.get('variable')) || undefined}
          initialColormap={String(model.get('colormap')) || context.colormap()}
          actions={actions}
          focusSlider={!inOutput}
        />
      ) : (
        <div className="jp-EspriVre-previewProgress">
          {trans.__('Reading the metadata from the kernel…')}
        </div>
      )}
    </>
  );
}

/** The preview of a kernel's object, as a Lumino widget. */
export class KernelPreviewPanel extends ReactWidget {
  constructor(
    private readonly _model: PreviewModel,
    private readonly _inOutput: boolean
  ) {
    super();
    this.addClass('jp-EspriVre-preview');
    this.addClass(
      _inOutput ? 'jp-EspriVre-previewOutput' : 'jp-EspriVre-previewKernelTab'
    );
    const title = String(_model.get('title'));
    this.title.label = context.trans.__('Preview: %1', title);
    this.title.caption = context.trans.__('%1, held in the kernel', title);
    this.title.closable = true;
  }

  protected render(): JSX.Element {
    return <KernelPreview model={this._model} inOutput={this._inOutput} />;
  }
}

type LuminoMessage = Parameters<DOMWidgetView['processLuminoMessage']>[0];

export class PreviewView extends DOMWidgetView {
  render(): void {
    // The height comes from the widget's layout (preview(..., height=...) in Python).
    this.el.classList.add('jp-EspriVre-previewHost');
    this._panel = new KernelPreviewPanel(this.model as PreviewModel, true);
    void this.displayed.then(() => this._attach());
  }

  processLuminoMessage(msg: LuminoMessage): void {
    super.processLuminoMessage(msg);
    const panel = this._panel;
    // The panel is not in a Lumino layout: follow the output's attachment.
    if (msg.type === 'before-detach' && panel?.isAttached) {
      Widget.detach(panel);
    } else if (msg.type === 'after-attach') {
      this._attach();
    }
  }

  remove(): void {
    const panel = this._panel;
    this._panel = null;
    if (panel?.isAttached && panel.node.isConnected) {
      Widget.detach(panel);
    }
    panel?.dispose();
    super.remove();
  }

  private _attach(): void {
    const panel = this._panel;
    if (
      panel &&
      !panel.isDisposed &&
      !panel.isAttached &&
      this.el.isConnected
    ) {
      Widget.attach(panel, this.el);
    }
  }

  private _panel: KernelPreviewPanel | null = null;
}
