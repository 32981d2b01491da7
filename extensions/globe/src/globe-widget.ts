/**
 * The Globe main-area widget: a CesiumJS viewer with the offline NaturalEarthII
 * base layer, view-mode buttons, PNG export and the layers list.
 */
import type { DatasetReference, IGlobe } from '@espri-vre/core';
import { PromiseDelegate } from '@lumino/coreutils';
import type { Message } from '@lumino/messaging';
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';
import type * as C from 'cesium';
import { type Cesium, loadCesium } from './cesium-loader';
import {
  type IColorOptions,
  type IFieldInput,
  type IPointsInput,
  type IRectangle,
  type ITrajectoryInput,
  prepareField,
  preparePoints,
  prepareTrajectory,
  validateFootprint
} from './layer-data';

export const GLOBE_ID = 'espri-vre-globe';

/** A layer on the globe with its Cesium objects. */
export interface IGlobeLayer extends IGlobe.ILayer {
  visible: boolean;
  opacity: number;
}

interface ILayerEntry extends IGlobeLayer {
  apply(): void;
  destroy(): void;
}

let nextLayer = 0;

function syntheticDataset(id: string, title: string): DatasetReference {
  return {
    id,
    title,
    // Layers added from arrays have no catalogue: this marks them as such.
    source: { catalog_id: 'globe', kind: 'stac' },
    identifiers: {},
    access: []
  };
}

export class GlobeWidget extends Widget {
  constructor() {
    super();
    this.id = GLOBE_ID;
    this.title.label = 'Globe';
    this.title.closable = true;
    this.addClass('jp-EspriVre-globe');

    const toolbar = document.createElement('div');
    toolbar.className = 'jp-EspriVre-globeToolbar';
    for (const [mode, label] of [
      ['3d', '3D'],
      ['2d', '2D'],
      ['columbus', 'Columbus']
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
    exportButton.textContent = 'Export PNG';
    exportButton.addEventListener('click', () => void this.downloadPng());
    toolbar.appendChild(exportButton);

    const body = document.createElement('div');
    body.className = 'jp-EspriVre-globeBody';
    this._viewerNode = document.createElement('div');
    this._viewerNode.className = 'jp-EspriVre-globeViewer';
    this._layersNode = document.createElement('ul');
    this._layersNode.className = 'jp-EspriVre-globeLayers';
    this._errorNode = document.createElement('div');
    this._errorNode.className = 'jp-EspriVre-globeError';
    this._errorNode.hidden = true;
    body.append(this._viewerNode, this._layersNode);
    this.node.append(toolbar, this._errorNode, body);
    this.node.dataset.state = 'loading';
  }

  /** Resolves once the viewer exists. */
  get ready(): Promise<void> {
    return this._ready.promise;
  }

  get layers(): readonly IGlobeLayer[] {
    return this._layers;
  }

  get layersChanged(): Signal<this, void> {
    return this._layersChanged;
  }

  /** The Cesium viewer; undefined until `ready`. */
  get viewer(): C.Viewer | undefined {
    return this._viewer;
  }

  setMode(mode: '3d' | '2d' | 'columbus'): void {
    const v = this._viewer;
    if (!v) {
      return;
    }
    if (mode === '3d') {
      v.scene.morphTo3D(0);
    } else if (mode === '2d') {
      v.scene.morphTo2D(0);
    } else {
      v.scene.morphToColumbusView(0);
    }
    this.node.dataset.mode = mode;
    v.scene.requestRender();
  }

  /** The current view as a PNG data URL. */
  async toPng(): Promise<string> {
    await this.ready;
    const v = this._viewer!;
    // The context keeps its drawing buffer (preserveDrawingBuffer), so the
    // frame just rendered can be read back.
    v.scene.render();
    return v.scene.canvas.toDataURL('image/png');
  }

  async downloadPng(): Promise<void> {
    const a = document.createElement('a');
    a.href = await this.toPng();
    a.download = 'globe.png';
    a.click();
  }

  async addPoints(
    title: string,
    input: IPointsInput,
    options: IColorOptions & { pixelSize?: number } = {}
  ): Promise<IGlobeLayer> {
    const data = preparePoints(input, options);
    await this.ready;
    const Cs = this._cesium!;
    const collection = new Cs.PointPrimitiveCollection();
    const colors: C.Color[] = [];
    for (let i = 0; i < data.count; i++) {
      const color = Cs.Color.fromBytes(
        data.rgba[4 * i],
        data.rgba[4 * i + 1],
        data.rgba[4 * i + 2],
        data.rgba[4 * i + 3]
      );
      colors.push(color);
      collection.add({
        position: Cs.Cartesian3.fromDegrees(
          data.lonLat[2 * i],
          data.lonLat[2 * i + 1]
        ),
        color,
        pixelSize: options.pixelSize ?? 6
      });
    }
    this._viewer!.scene.primitives.add(collection);
    return this._addLayer(title, 'points', {
      apply: layer => {
        collection.show = layer.visible;
        for (let i = 0; i < collection.length; i++) {
          collection.get(i).color = colors[i].withAlpha(
            colors[i].alpha * layer.opacity
          );
        }
      },
      destroy: () => {
        this._viewer?.scene.primitives.remove(collection);
      }
    });
  }

  async addTrajectory(
    title: string,
    input: ITrajectoryInput,
    options: { color?: string } = {}
  ): Promise<IGlobeLayer> {
    const data = prepareTrajectory(input);
    await this.ready;
    const Cs = this._cesium!;
    const v = this._viewer!;
    const position = new Cs.SampledPositionProperty();
    const positions: C.Cartesian3[] = [];
    for (const s of data.samples) {
      const p = Cs.Cartesian3.fromDegrees(s.lon, s.lat, s.height);
      positions.push(p);
      position.addSample(Cs.JulianDate.fromDate(s.time), p);
    }
    const start = Cs.JulianDate.fromDate(data.start);
    const stop = Cs.JulianDate.fromDate(data.stop);
    const base = Cs.Color.fromCssColorString(options.color ?? '#ff7f0e');
    const track = v.entities.add({
      polyline: { positions, width: 2, material: base }
    });
    const mover = v.entities.add({
      availability: new Cs.TimeIntervalCollection([
        new Cs.TimeInterval({ start, stop })
      ]),
      position,
      point: { pixelSize: 10, color: Cs.Color.WHITE }
    });
    v.clock.startTime = start.clone();
    v.clock.stopTime = stop.clone();
    v.clock.currentTime = start.clone();
    v.clock.clockRange = Cs.ClockRange.LOOP_STOP;
    v.timeline?.zoomTo(start, stop);
    return this._addLayer(title, 'lines', {
      apply: layer => {
        track.show = layer.visible;
        mover.show = layer.visible;
        track.polyline!.material = new Cs.ColorMaterialProperty(
          base.withAlpha(layer.opacity)
        );
      },
      destroy: () => {
        v.entities.remove(track);
        v.entities.remove(mover);
      }
    });
  }

  async addField(
    title: string,
    input: IFieldInput,
    options: IColorOptions = {}
  ): Promise<IGlobeLayer> {
    const data = prepareField(input, options);
    await this.ready;
    const Cs = this._cesium!;
    const v = this._viewer!;
    const imagery: C.ImageryLayer[] = [];
    for (const tile of data.tiles) {
      const canvas = document.createElement('canvas');
      canvas.width = tile.width;
      canvas.height = tile.height;
      const context = canvas.getContext('2d')!;
      context.putImageData(
        new ImageData(tile.rgba, tile.width, tile.height),
        0,
        0
      );
      const r = tile.rectangle;
      const provider = await Cs.SingleTileImageryProvider.fromUrl(
        canvas.toDataURL('image/png'),
        {
          rectangle: Cs.Rectangle.fromDegrees(r.west, r.south, r.east, r.north)
        }
      );
      const layer = v.imageryLayers.addImageryProvider(provider);
      // Keep grid cells sharp: a field is not a photograph.
      layer.magnificationFilter = Cs.TextureMagnificationFilter.NEAREST;
      layer.minificationFilter = Cs.TextureMinificationFilter.NEAREST;
      imagery.push(layer);
    }
    return this._addLayer(title, 'grid', {
      apply: layer => {
        for (const l of imagery) {
          l.show = layer.visible;
          l.alpha = layer.opacity;
        }
      },
      destroy: () => {
        for (const l of imagery) {
          v.imageryLayers.remove(l, true);
        }
      }
    });
  }

  async addFootprints(
    title: string,
    boxes: IRectangle[],
    options: { color?: string } = {}
  ): Promise<IGlobeLayer> {
    if (boxes.length === 0) {
      throw new Error('Footprints: no boxes given.');
    }
    const valid = boxes.map(validateFootprint);
    await this.ready;
    const Cs = this._cesium!;
    const v = this._viewer!;
    const base = Cs.Color.fromCssColorString(options.color ?? '#ffd700');
    const entities = valid.map(b =>
      v.entities.add({
        rectangle: {
          coordinates: Cs.Rectangle.fromDegrees(
            b.west,
            b.south,
            b.east,
            b.north
          ),
          material: base.withAlpha(0.25),
          height: 0,
          outline: true,
          outlineColor: base
        }
      })
    );
    return this._addLayer(title, 'lines', {
      apply: layer => {
        for (const e of entities) {
          e.show = layer.visible;
          e.rectangle!.material = new Cs.ColorMaterialProperty(
            base.withAlpha(0.25 * layer.opacity)
          );
        }
      },
      destroy: () => {
        for (const e of entities) {
          v.entities.remove(e);
        }
      }
    });
  }

  setLayerVisible(id: string, visible: boolean): void {
    this._update(id, layer => (layer.visible = visible));
  }

  setLayerOpacity(id: string, opacity: number): void {
    this._update(
      id,
      layer => (layer.opacity = Math.min(1, Math.max(0, opacity)))
    );
  }

  removeLayer(id: string): void {
    const index = this._layers.findIndex(l => l.id === id);
    if (index < 0) {
      return;
    }
    const [layer] = this._layers.splice(index, 1);
    layer.destroy();
    this._viewer?.scene.requestRender();
    this._renderLayers();
    this._layersChanged.emit();
  }

  flyTo(box: IGlobe.IBoundingBox): void {
    const Cs = this._cesium;
    if (!Cs || !this._viewer) {
      return;
    }
    const b = validateFootprint(box);
    this._viewer.camera.flyTo({
      destination: Cs.Rectangle.fromDegrees(b.west, b.south, b.east, b.north),
      duration: 0
    });
    this._viewer.scene.requestRender();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    for (const layer of this._layers) {
      layer.destroy();
    }
    this._layers = [];
    this._viewer?.destroy();
    this._viewer = undefined;
    Signal.clearData(this);
    super.dispose();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    if (!this._started) {
      this._started = true;
      void this._start();
    }
  }

  protected onResize(msg: Widget.ResizeMessage): void {
    super.onResize(msg);
    this._viewer?.resize();
    this._viewer?.scene.requestRender();
  }

  private async _start(): Promise<void> {
    try {
      const Cs = await loadCesium();
      // No Cesium Ion: no token, and no Ion imagery, terrain or geocoder.
      Cs.Ion.defaultAccessToken = '';
      const baseLayer = Cs.ImageryLayer.fromProviderAsync(
        Cs.TileMapServiceImageryProvider.fromUrl(
          Cs.buildModuleUrl('Assets/Textures/NaturalEarthII')
        ),
        {}
      );
      if (this.isDisposed) {
        return;
      }
      const viewer = new Cs.Viewer(this._viewerNode, {
        baseLayer,
        baseLayerPicker: false,
        geocoder: false,
        homeButton: false,
        sceneModePicker: false,
        navigationHelpButton: false,
        fullscreenButton: false,
        infoBox: false,
        selectionIndicator: false,
        animation: true,
        timeline: true,
        terrainProvider: new Cs.EllipsoidTerrainProvider(),
        // Render only when something changes (camera, layers, a running
        // clock): software WebGL draws a few frames per second at best.
        requestRenderMode: true,
        maximumRenderTimeChange: Infinity,
        // toPng() reads the canvas back after rendering.
        contextOptions: { webgl: { preserveDrawingBuffer: true } }
      });
      viewer.clock.shouldAnimate = false;
      // A running clock must redraw every frame to move the trajectories.
      viewer.clock.onTick.addEventListener(clock => {
        if (clock.shouldAnimate) {
          viewer.scene.requestRender();
        }
      });
      viewer.scene.canvas.addEventListener('webglcontextlost', () => {
        this.node.dataset.contextLost = 'true';
      });
      let frames = 0;
      viewer.scene.postRender.addEventListener(() => {
        frames++;
        if (frames === 1) {
          this.node.dataset.state = 'ready';
        }
        if (viewer.scene.globe.tilesLoaded) {
          this.node.dataset.tilesLoaded = 'true';
        }
      });
      this._cesium = Cs;
      this._viewer = viewer;
      this.node.dataset.mode = '3d';
      this._ready.resolve();
    } catch (reason) {
      this.node.dataset.state = 'error';
      this._errorNode.hidden = false;
      this._errorNode.textContent = String(reason);
      this._ready.reject(reason);
    }
  }

  private _addLayer(
    title: string,
    kind: IGlobe.ILayer['kind'],
    hooks: {
      apply: (layer: IGlobeLayer) => void;
      destroy: () => void;
    }
  ): IGlobeLayer {
    const id = `globe-layer-${++nextLayer}`;
    const entry: ILayerEntry = {
      id,
      title,
      kind,
      dataset: syntheticDataset(id, title),
      visible: true,
      opacity: 1,
      apply: () => hooks.apply(entry),
      destroy: hooks.destroy
    };
    this._layers.push(entry);
    this._viewer?.scene.requestRender();
    this._renderLayers();
    this._layersChanged.emit();
    return entry;
  }

  private _update(id: string, change: (layer: ILayerEntry) => void): void {
    const layer = this._layers.find(l => l.id === id);
    if (!layer) {
      return;
    }
    change(layer);
    layer.apply();
    this._viewer?.scene.requestRender();
  }

  private _renderLayers(): void {
    const list = this._layersNode;
    list.replaceChildren();
    // Top layer first, as in every map application.
    for (const layer of [...this._layers].reverse()) {
      const li = document.createElement('li');
      li.className = 'jp-EspriVre-globeLayer';
      li.dataset.layerId = layer.id;
      li.dataset.kind = layer.kind;

      const visible = document.createElement('input');
      visible.type = 'checkbox';
      visible.className = 'jp-EspriVre-globeLayerVisible';
      visible.checked = layer.visible;
      visible.title = 'Show or hide';
      visible.addEventListener('change', () =>
        this.setLayerVisible(layer.id, visible.checked)
      );

      const name = document.createElement('span');
      name.className = 'jp-EspriVre-globeLayerTitle';
      name.textContent = layer.title;

      const opacity = document.createElement('input');
      opacity.type = 'range';
      opacity.className = 'jp-EspriVre-globeLayerOpacity';
      opacity.min = '0';
      opacity.max = '1';
      opacity.step = '0.05';
      opacity.value = String(layer.opacity);
      opacity.title = 'Opacity';
      opacity.addEventListener('input', () =>
        this.setLayerOpacity(layer.id, Number(opacity.value))
      );

      const remove = document.createElement('button');
      remove.className = 'jp-EspriVre-globeLayerRemove jp-mod-styled';
      remove.textContent = '×';
      remove.title = 'Remove the layer';
      remove.addEventListener('click', () => this.removeLayer(layer.id));

      li.append(visible, name, opacity, remove);
      list.appendChild(li);
    }
  }

  private _cesium: Cesium | undefined;
  private _viewer: C.Viewer | undefined;
  private _started = false;
  private _ready = new PromiseDelegate<void>();
  private _layers: ILayerEntry[] = [];
  private _layersChanged = new Signal<this, void>(this);
  private _viewerNode: HTMLDivElement;
  private _layersNode: HTMLUListElement;
  private _errorNode: HTMLDivElement;
}
