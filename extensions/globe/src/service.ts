/**
 * `IGlobe` over the one Globe widget of the page, opened on demand: what the other
 * extensions (the catalogue's footprints, the previewer's slices) draw through.
 */
import type { DatasetReference, IGlobe } from '@espri-vre/core';
import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { TranslationBundle } from '@jupyterlab/translation';
import { Signal } from '@lumino/signaling';
import { GlobeWidget } from './globe-widget';

export class GlobeService implements IGlobe {
  constructor(
    private readonly _app: JupyterFrontEnd,
    private readonly _trans?: TranslationBundle
  ) {}

  get layers(): readonly IGlobe.ILayer[] {
    return this._widget?.layers ?? [];
  }

  get layersChanged(): Signal<IGlobe, void> {
    return this._layersChanged;
  }

  /** Open (or reveal) the globe and wait until its viewer exists. */
  async open(): Promise<GlobeWidget> {
    if (!this._widget || this._widget.isDisposed) {
      const widget = new GlobeWidget({ trans: this._trans });
      widget.layersChanged.connect(() => this._layersChanged.emit());
      widget.disposed.connect(() => {
        this._widget = null;
        this._layersChanged.emit();
      });
      this._widget = widget;
      this._app.shell.add(widget, 'main');
    }
    this._app.shell.activateById(this._widget.id);
    await this._widget.ready;
    return this._widget;
  }

  async show(
    dataset: DatasetReference,
    options: IGlobe.IShowOptions = {}
  ): Promise<IGlobe.ILayer> {
    await this.open();
    options.signal?.throwIfAborted();
    // Reading a dataset's slice is the previewer's job (issue 6, "Show on
    // globe"); until it hands slices over, say so rather than draw nothing.
    throw new Error(
      `The globe cannot read "${dataset.title}" by itself yet: add its slice with addField().`
    );
  }

  async addFootprint(footprint: IGlobe.IFootprint): Promise<IGlobe.ILayer> {
    const boxes = footprint.boxes ?? [];
    const widget = await this.open();
    const layer = await widget.addFootprints(footprint.title, boxes, {
      color: footprint.color,
      polygons: footprint.polygons ?? []
    });
    if (footprint.fly !== false && boxes.length > 0) {
      widget.flyTo(boxes[0]);
    }
    return layer;
  }

  async addField(field: IGlobe.IField): Promise<IGlobe.ILayer> {
    const widget = await this.open();
    const numbers = (values: readonly (number | null)[]): number[] =>
      values.map(v => v ?? NaN);
    return widget.addField(
      field.title,
      { lon: field.lon, lat: field.lat, values: numbers(field.values) },
      { colormap: field.colormap, min: field.min, max: field.max }
    );
  }

  remove(layerId: string): void {
    this._widget?.removeLayer(layerId);
  }

  flyTo(box: IGlobe.IBoundingBox): void {
    this._widget?.flyTo(box);
  }

  private _widget: GlobeWidget | null = null;
  private _layersChanged = new Signal<IGlobe, void>(this);
}
