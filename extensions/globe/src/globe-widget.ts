/**
 * The Globe main-area widget: the view-mode buttons and PNG export, the CesiumJS viewer
 * (`globe-viewer.ts`) and the layers panel (`layers-panel.ts`) beside it.
 */
import type { IGlobe } from '@espri-vre/core';
import type { Message } from '@lumino/messaging';
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';
import type { TranslationBundle } from '@jupyterlab/translation';
import { nullTranslator } from '@jupyterlab/translation';
import type * as C from 'cesium';
import type { IGlobeLayer } from './globe-layers';
import {
  GlobeViewer,
  type ICamera,
  type IGlobeClick,
  type ILayerOptions
} from './globe-viewer';
import type {
  IColorOptions,
  IFieldInput,
  IMeshInput,
  IPointsInput,
  IRectangle,
  ITrajectoryInput
} from './layer-data';
import { LayersPanel } from './layers-panel';

// The types of this widget's API, as the extension's index exports them.
export type { IGlobeLayer } from './globe-layers';
export type { ICamera, IGlobeClick } from './globe-viewer';

export const GLOBE_ID = 'espri-vre-globe';

export namespace GlobeWidget {
  export interface IOptions {
    /** The DOM id; the main-area globe's by default. */
    id?: string;
    trans?: TranslationBundle;
  }
}

export class GlobeWidget extends Widget {
  constructor(options: GlobeWidget.IOptions = {}) {
    super();
    const trans = options.trans ?? nullTranslator.load('espri_vre');
    this.id = options.id ?? GLOBE_ID;
    this.title.label = trans.__('Globe');
    this.title.closable = true;
    this.addClass('jp-EspriVre-globe');

    const toolbar = document.createElement('div');
    toolbar.className = 'jp-EspriVre-globeToolbar';
    for (const [mode, label] of [
      ['3d', trans.__('3D')],
      ['2d', trans.__('2D')],
      ['columbus', trans.__('Columbus')]
    ] as const) {
      const button = document.createElement('button');
      button.className = 'jp-EspriVre-globeMode jp-mod-styled';
      button.dataset.mode = mode;
      button.textContent = label;
      button.addEventListener('click', () => this.setMode(mode));
      toolbar.appendChild(button);
    }
    const exportButton = document.createElement('button');
    exportButton.className = 'jp-EspriVre-globeExport jp-mod-styled';
    exportButton.textContent = trans.__('Export PNG');
    exportButton.addEventListener('click', () => void this.downloadPng());
    toolbar.appendChild(exportButton);

    const body = document.createElement('div');
    body.className = 'jp-EspriVre-globeBody';
    const viewerNode = document.createElement('div');
    viewerNode.className = 'jp-EspriVre-globeViewer';
    const errorNode = document.createElement('div');
    errorNode.className = 'jp-EspriVre-globeError';
    errorNode.hidden = true;
    this._panel = new LayersPanel(trans, {
      setVisible: (id, visible) => this.setLayerVisible(id, visible),
      setOpacity: (id, opacity) => this.setLayerOpacity(id, opacity),
      move: (id, delta) => this.moveLayer(id, delta),
      remove: id => this.removeLayer(id)
    });
    body.append(viewerNode, this._panel.node);
    this.node.append(toolbar, errorNode, body);
    this.node.dataset.state = 'loading';

    const globe = (this._globe = new GlobeViewer({
      container: viewerNode,
      status: this.node,
      onError: reason => {
        errorNode.hidden = false;
        errorNode.textContent = String(reason);
      }
    }));
    globe.layersChanged.connect(() => {
      this._panel.render(globe.layers);
      this._layersChanged.emit();
    });
    globe.clicked.connect((_, click) => this._clicked.emit(click));
    globe.cameraChanged.connect((_, camera) =>
      this._cameraChanged.emit(camera)
    );
  }

  /** Resolves once the viewer exists. */
  get ready(): Promise<void> {
    return this._globe.ready;
  }

  get layers(): readonly IGlobeLayer[] {
    return this._globe.layers;
  }

  get layersChanged(): Signal<this, void> {
    return this._layersChanged;
  }

  /** The Cesium viewer; undefined until `ready`. */
  get viewer(): C.Viewer | undefined {
    return this._globe.viewer;
  }

  setMode(mode: '3d' | '2d' | 'columbus'): void {
    this._globe.setMode(mode);
  }

  /** The current view as a PNG data URL. */
  toPng(): Promise<string> {
    return this._globe.toPng();
  }

  async downloadPng(): Promise<void> {
    const a = document.createElement('a');
    a.href = await this.toPng();
    a.download = 'globe.png';
    a.click();
  }

  /** Emitted when the globe is clicked, with the top visible layer's value there. */
  get clicked(): Signal<this, IGlobeClick> {
    return this._clicked;
  }

  addPoints(
    title: string,
    input: IPointsInput,
    options: IColorOptions & ILayerOptions & { pixelSize?: number } = {}
  ): Promise<IGlobeLayer> {
    return this._globe.addPoints(title, input, options);
  }

  addTrajectory(
    title: string,
    input: ITrajectoryInput,
    options: ILayerOptions & { color?: string } = {}
  ): Promise<IGlobeLayer> {
    return this._globe.addTrajectory(title, input, options);
  }

  /**
   * Where a trajectory's moving point is at `time` (the clock's current time
   * when omitted); null for an unknown layer or a time outside the track.
   */
  trajectoryPosition(
    layerId: string,
    time?: Date
  ): { lon: number; lat: number; time: string } | null {
    return this._globe.trajectoryPosition(layerId, time);
  }

  /** Set the clock: its time, speed (simulated seconds per second) and whether it runs. */
  setClock(options: {
    time?: Date;
    multiplier?: number;
    play?: boolean;
  }): void {
    this._globe.setClock(options);
  }

  addField(
    title: string,
    input: IFieldInput,
    options: IColorOptions & ILayerOptions = {}
  ): Promise<IGlobeLayer> {
    return this._globe.addField(title, input, options);
  }

  /** A field on a curvilinear grid (2-D lat/lon), drawn as coloured quads. */
  addMesh(
    title: string,
    input: IMeshInput,
    options: IColorOptions & ILayerOptions = {}
  ): Promise<IGlobeLayer> {
    return this._globe.addMesh(title, input, options);
  }

  /**
   * Footprints: boxes in degrees (`west > east` crosses the antimeridian) and
   * polygons as rings of [lon, lat] vertices.
   */
  addFootprints(
    title: string,
    boxes: IRectangle[],
    options: ILayerOptions & {
      color?: string;
      polygons?: [number, number][][];
    } = {}
  ): Promise<IGlobeLayer> {
    return this._globe.addFootprints(title, boxes, options);
  }

  setLayerVisible(id: string, visible: boolean): void {
    this._globe.setLayerVisible(id, visible);
  }

  setLayerOpacity(id: string, opacity: number): void {
    this._globe.setLayerOpacity(id, opacity);
  }

  /** Move a layer up (+1, drawn above the next) or down (-1) in the order. */
  moveLayer(id: string, delta: 1 | -1): void {
    this._globe.moveLayer(id, delta);
  }

  removeLayer(id: string): void {
    this._globe.removeLayer(id);
  }

  /** The camera: position in degrees and metres, orientation in degrees. */
  getCamera(): ICamera | null {
    return this._globe.getCamera();
  }

  setCamera(camera: ICamera): void {
    this._globe.setCamera(camera);
  }

  /** Emitted when the camera stops moving. */
  get cameraChanged(): Signal<this, ICamera> {
    return this._cameraChanged;
  }

  /**
   * What is under a canvas position (CSS pixels from the canvas' top left): the
   * place on the globe, and the top visible layer's value there; null off the globe.
   */
  pick(x: number, y: number): IGlobeClick | null {
    return this._globe.pick(x, y);
  }

  flyTo(box: IGlobe.IBoundingBox): void {
    this._globe.flyTo(box);
  }

  /** Destroy the layers and the Cesium viewer (its WebGL context) now. */
  releaseViewer(): void {
    this._globe.releaseViewer();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._globe.dispose();
    Signal.clearData(this);
    super.dispose();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    void this._globe.start();
  }

  protected onResize(msg: Widget.ResizeMessage): void {
    super.onResize(msg);
    this._globe.resize();
  }

  private _globe: GlobeViewer;
  private _panel: LayersPanel;
  private _layersChanged = new Signal<this, void>(this);
  private _clicked = new Signal<this, IGlobeClick>(this);
  private _cameraChanged = new Signal<this, ICamera>(this);
}
