/**
 * The front end of the Python `espri_vre.globe.Globe` widget (ipywidgets 8,
 * @jupyter-widgets/base 6): the model keeps every layer message it received, in
 * order, so that each view (a notebook output, a re-rendered cell) draws the
 * same layers on its own GlobeWidget.
 */
import {
  DOMWidgetModel,
  DOMWidgetView,
  type ISerializers
} from '@jupyter-widgets/base';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { ObjectHash } from 'backbone';
import { nullTranslator } from '@jupyterlab/translation';
import { MessageLoop, type Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';
import { GlobeWidget } from './globe-widget';
import type { ICamera } from './globe-viewer';
import {
  PROTOCOL_VERSION,
  type WidgetBuffer,
  decodeLayerMessage
} from './widget-messages';

export const MODULE_NAME = '@espri-vre/globe';
export const MODULE_VERSION = '0.1.0';

interface IRawMessage {
  content: Record<string, unknown>;
  buffers: WidgetBuffer[];
}

let translations: TranslationBundle = nullTranslator.load('espri_vre');

/** The translations the widget's views use (set by the plugin). */
export function setWidgetTranslations(trans: TranslationBundle): void {
  translations = trans;
}

let nextView = 0;

export class GlobeModel extends DOMWidgetModel {
  defaults(): ObjectHash {
    return {
      ...super.defaults(),
      _model_name: GlobeModel.model_name,
      _model_module: GlobeModel.model_module,
      _model_module_version: GlobeModel.model_module_version,
      _view_name: GlobeModel.view_name,
      _view_module: GlobeModel.view_module,
      _view_module_version: GlobeModel.view_module_version,
      camera: {},
      layers: []
    };
  }

  initialize(
    attributes: ObjectHash,
    options: { model_id: string; comm?: unknown; widget_manager: unknown }
  ): void {
    super.initialize(attributes, options as never);
    this.on('msg:custom', this._onMessage, this);
    // Layers sent before this model existed (a page opened or reloaded later)
    // come again; those already here are recognised by their layer id and batch.
    this.send(
      { protocol: PROTOCOL_VERSION, type: 'request-layers' },
      undefined
    );
  }

  /** The layer messages received so far, in order. */
  get layerMessages(): readonly IRawMessage[] {
    return [...this._layers.values()].flat();
  }

  private _onMessage(
    content: Record<string, unknown>,
    buffers: WidgetBuffer[] = []
  ): void {
    const type = String(content.type);
    const layerId = String(content.layer_id ?? '');
    if (type.startsWith('add-')) {
      const parts = this._layers.get(layerId) ?? [];
      const batch = Number(content.batch ?? 0);
      if (parts.some(p => Number(p.content.batch ?? 0) === batch)) {
        return;
      }
      parts.push({ content, buffers });
      this._layers.set(layerId, parts);
    } else if (type === 'remove-layer') {
      this._layers.delete(layerId);
    }
    this.trigger('globe:message', { content, buffers });
  }

  static serializers: ISerializers = { ...DOMWidgetModel.serializers };
  static model_name = 'GlobeModel';
  static model_module = MODULE_NAME;
  static model_module_version = MODULE_VERSION;
  static view_name = 'GlobeView';
  static view_module = MODULE_NAME;
  static view_module_version = MODULE_VERSION;

  private _layers = new Map<string, IRawMessage[]>();
}

export class GlobeView extends DOMWidgetView {
  render(): void {
    // The height comes from the widget's layout (Globe(height=...) in Python).
    this.el.classList.add('jp-EspriVre-globeOutput');
    this._globe = new GlobeWidget({
      id: `espri-vre-globe-view-${++nextView}`,
      trans: translations
    });
    const globe = this._globe;
    this.listenTo(
      this.model,
      'change:camera',
      (_: unknown, camera: ICamera, options?: { fromView?: boolean }) => {
        if (!options?.fromView && camera && 'lon' in camera) {
          globe.setCamera(camera);
        }
      }
    );
    this.listenTo(this.model, 'globe:message', (message: IRawMessage) => {
      void this._queue(message);
    });
    globe.clicked.connect((_, click) => {
      this.send({ protocol: PROTOCOL_VERSION, type: 'click', ...click });
    });
    globe.cameraChanged.connect((_, camera) => {
      this.model.set('camera', camera, { fromView: true });
      this.model.save_changes();
    });
    globe.layersChanged.connect(() => {
      this.model.set(
        'layers',
        globe.layers.map(l => ({
          id: l.id,
          title: l.title,
          kind: l.globeKind
        })),
        { fromView: true }
      );
      this.model.save_changes();
    });
    void this.displayed.then(() => {
      if (!globe.isDisposed && !globe.isAttached) {
        Widget.attach(globe, this.el);
      }
    });
    void globe.ready.then(() => {
      const camera = this.model.get('camera') as ICamera;
      if (camera && 'lon' in camera) {
        globe.setCamera(camera);
      }
      for (const message of (this.model as GlobeModel).layerMessages) {
        void this._queue(message);
      }
    });
  }

  processLuminoMessage(msg: Message): void {
    super.processLuminoMessage(msg);
    const globe = this._globe;
    // The globe is not in a Lumino layout: follow the output's attachment, so
    // that it is never disposed while attached to a node gone from the page.
    if (msg.type === 'before-detach' && globe?.isAttached) {
      Widget.detach(globe);
    } else if (
      msg.type === 'after-attach' &&
      globe &&
      !globe.isDisposed &&
      !globe.isAttached
    ) {
      Widget.attach(globe, this.el);
    }
    if (
      this._globe?.isAttached &&
      (msg.type === 'resize' || msg.type === 'after-show')
    ) {
      MessageLoop.sendMessage(this._globe, Widget.ResizeMessage.UnknownSize);
    }
  }

  remove(): void {
    const globe = this._globe;
    if (globe?.isAttached && globe.node.isConnected) {
      Widget.detach(globe);
    }
    if (globe?.isAttached) {
      // The page removed the output's node first: Lumino cannot detach it any
      // more; free Cesium's resources and drop the node with its ancestors.
      globe.releaseViewer();
    } else {
      globe?.dispose();
    }
    this._globe = null;
    super.remove();
  }

  /** Handle messages one at a time, in order, once the viewer exists. */
  private _queue(message: IRawMessage): Promise<void> {
    this._chain = this._chain.then(() => this._handle(message));
    return this._chain;
  }

  private async _handle({ content, buffers }: IRawMessage): Promise<void> {
    const globe = this._globe;
    if (!globe) {
      return;
    }
    await globe.ready;
    const type = String(content.type);
    const layerId = String(content.layer_id ?? '');
    try {
      if (type === 'remove-layer') {
        globe.removeLayer(layerId);
        for (const key of [...this._seen]) {
          if (key.startsWith(`${layerId}:`)) {
            this._seen.delete(key);
          }
        }
      } else if (type === 'fly-to') {
        globe.flyTo(content as never);
      } else if (type === 'screenshot') {
        const png = await globe.toPng();
        const data = await (await fetch(png)).arrayBuffer();
        this.send(
          {
            protocol: PROTOCOL_VERSION,
            type: 'screenshot',
            request_id: content.request_id
          },
          [data]
        );
      } else if (type.startsWith('add-')) {
        await this._addLayer(globe, content, buffers);
      }
    } catch (reason) {
      this.send({
        protocol: PROTOCOL_VERSION,
        type: type === 'screenshot' ? 'screenshot' : 'error',
        request_id: content.request_id,
        layer_id: layerId,
        ...(type === 'screenshot'
          ? { error: String(reason) }
          : {
              message: reason instanceof Error ? reason.message : String(reason)
            })
      });
    }
  }

  private async _addLayer(
    globe: GlobeWidget,
    content: Record<string, unknown>,
    buffers: WidgetBuffer[]
  ): Promise<void> {
    const m = decodeLayerMessage(content, buffers);
    // The same message can come live and again from the model's replay.
    const key = `${m.layer_id}:${m.type === 'add-points' ? m.batch : 0}`;
    if (this._seen.has(key)) {
      return;
    }
    this._seen.add(key);
    const colors = (c: {
      colormap: 'viridis' | 'rdbu';
      min: number | null;
      max: number | null;
    }) => ({
      colormap: c.colormap,
      min: c.min ?? undefined,
      max: c.max ?? undefined,
      layerId: m.layer_id
    });
    switch (m.type) {
      case 'add-points':
        await globe.addPoints(m.title, m.data, {
          ...colors(m),
          pixelSize: m.pixel_size
        });
        break;
      case 'add-field':
        await globe.addField(m.title, m.data, colors(m));
        break;
      case 'add-mesh':
        await globe.addMesh(m.title, m.data, colors(m));
        break;
      case 'add-trajectory':
        await globe.addTrajectory(m.title, m.data, {
          color: m.color,
          layerId: m.layer_id
        });
        break;
      case 'add-footprints':
        await globe.addFootprints(m.title, m.data, {
          color: m.color,
          layerId: m.layer_id
        });
        break;
    }
    const last = m.type !== 'add-points' || m.batch === m.batches - 1;
    if (last) {
      this.send({
        protocol: PROTOCOL_VERSION,
        type: 'layer-added',
        layer_id: m.layer_id
      });
    }
  }

  private _globe: GlobeWidget | null = null;
  private _chain: Promise<void> = Promise.resolve();
  private _seen = new Set<string>();
}
