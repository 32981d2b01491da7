/**
 * The globe service that a reload can restore: the globe widget is tracked (for the
 * layout) as soon as it is in the shell, and the source of each layer added through
 * the IGlobe service is kept (see `layer-sources.ts`) and saved with it.
 */
import type { IGlobe } from '@espri-vre/core';
import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { WidgetTracker } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { GLOBE_ID, type GlobeWidget } from './globe-widget';
import { type LayerSource, LayerSources } from './layer-sources';
import { GlobeService } from './service';

export class RestorableGlobeService extends GlobeService {
  constructor(
    app: JupyterFrontEnd,
    trans: TranslationBundle | undefined,
    private readonly _tracker: WidgetTracker<GlobeWidget>
  ) {
    super(app, trans);
    this._shell = app.shell;
    this.layersChanged.connect(() => {
      this.sources.keepOnly(this.layers.map(layer => layer.id));
      this._save();
    });
  }

  /** The sources of the layers on the globe. */
  readonly sources = new LayerSources();

  async open(): Promise<GlobeWidget> {
    const opening = super.open();
    // Tracked at once, not once Cesium is ready: the layout is saved when the widget
    // enters the shell, and a restored layout drops the widgets it does not name.
    for (const widget of this._shell.widgets('main')) {
      if (widget.id === GLOBE_ID && !this._tracker.has(widget)) {
        this._tracked = widget as GlobeWidget;
        void this._tracker.add(this._tracked);
      }
    }
    return opening;
  }

  async addFootprint(footprint: IGlobe.IFootprint): Promise<IGlobe.ILayer> {
    return this.keep(await super.addFootprint(footprint), {
      kind: 'footprint',
      footprint
    });
  }

  async addField(field: IGlobe.IField): Promise<IGlobe.ILayer> {
    return this.keep(await super.addField(field), { kind: 'field', field });
  }

  /** Keep the source of a layer added otherwise (the demo stations). */
  keep<T extends { id: string }>(layer: T, source: LayerSource): T {
    this.sources.add(layer.id, source);
    this._save();
    return layer;
  }

  private _save(): void {
    if (this._tracked && !this._tracked.isDisposed) {
      void this._tracker.save(this._tracked);
    }
  }

  private _shell: JupyterFrontEnd.IShell;
  private _tracked: GlobeWidget | null = null;
}
