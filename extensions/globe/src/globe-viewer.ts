/**
 * The globe's CesiumJS viewer: the offline NaturalEarthII base layer, the layers in
 * draw order, the camera, the clock, picking and PNG export. It shows its state as
 * `data-*` attributes of a status node (the widget's), which tests and benchmarks read.
 */
import type { DatasetReference, IGlobe } from '@espri-vre/core';
import { PromiseDelegate } from '@lumino/coreutils';
import type { IDisposable } from '@lumino/disposable';
import { Signal } from '@lumino/signaling';
import type * as C from 'cesium';
import { type Cesium, loadCesium } from './cesium-loader';
import {
  addPointBatch,
  CORE_KIND,
  fieldImagery,
  footprintEntities,
  type GlobeLayerKind,
  type IGlobeLayer,
  type ILayerHooks,
  type ILegend,
  type IPointBatch,
  meshQuads,
  pointsHooks,
  trajectoryEntities
} from './globe-layers';
import {
  type IColorOptions,
  type IFieldInput,
  type IMeshInput,
  type IPointsInput,
  type IRectangle,
  type ITrajectoryInput,
  prepareField,
  prepareMesh,
  preparePoints,
  prepareTrajectory,
  validateFootprint,
  validatePolygon
} from './layer-data';

/** What a click on the globe hit: the place, and the top layer's value there. */
export interface IGlobeClick {
  lon: number;
  lat: number;
  layer_id?: string;
  title?: string;
  value?: number | null;
  index?: number;
}

interface ILayerEntry extends IGlobeLayer {
  hooks: ILayerHooks;
}

/** The camera: position in degrees and metres above the ellipsoid, angles in degrees. */
export interface ICamera {
  lon: number;
  lat: number;
  height: number;
  heading: number;
  pitch: number;
  roll: number;
}

/** Options of the layer methods: a layer id given by the caller (the Python widget). */
export interface ILayerOptions {
  layerId?: string;
}

export namespace GlobeViewer {
  export interface IOptions {
    /** The node the Cesium viewer fills. */
    container: HTMLElement;
    /** The node whose `data-*` attributes say the viewer's state. */
    status: HTMLElement;
    /** Show why the viewer could not start; called before `ready` rejects. */
    onError: (reason: unknown) => void;
  }
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

export class GlobeViewer implements IDisposable {
  constructor(options: GlobeViewer.IOptions) {
    this._container = options.container;
    this._status = options.status;
    this._onError = options.onError;
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

  get isDisposed(): boolean {
    return this._isDisposed;
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
    this._status.dataset.mode = mode;
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

  /** Emitted when the globe is clicked, with the top visible layer's value there. */
  get clicked(): Signal<this, IGlobeClick> {
    return this._clicked;
  }

  /** Emitted when the camera stops moving. */
  get cameraChanged(): Signal<this, ICamera> {
    return this._cameraChanged;
  }

  async addPoints(
    title: string,
    input: IPointsInput,
    options: IColorOptions & ILayerOptions & { pixelSize?: number } = {}
  ): Promise<IGlobeLayer> {
    const data = preparePoints(input, options);
    await this.ready;
    const Cs = this._cesium!;
    const v = this._viewer!;
    const pixelSize = options.pixelSize ?? 6;
    const existing = options.layerId
      ? this._layers.find(l => l.id === options.layerId)
      : undefined;
    const batch = addPointBatch(Cs, v, data, input.values, pixelSize);
    if (existing) {
      // A further batch of a layer sent in parts by the Python widget.
      const parts = this._pointBatches.get(existing.id)!;
      parts.push(batch);
      existing.hooks.apply(existing);
      v.scene.requestRender();
      return existing;
    }
    const parts = [batch];
    const legend: ILegend = {
      colormap: options.colormap ?? 'viridis',
      min: data.min,
      max: data.max
    };
    const layer = this._addLayer(
      title,
      'points',
      pointsHooks(v, parts, legend, () => this._pointBatches.delete(layer.id)),
      options.layerId
    );
    this._pointBatches.set(layer.id, parts);
    return layer;
  }

  async addTrajectory(
    title: string,
    input: ITrajectoryInput,
    options: ILayerOptions & { color?: string } = {}
  ): Promise<IGlobeLayer> {
    const data = prepareTrajectory(input);
    await this.ready;
    const { hooks, mover } = trajectoryEntities(
      this._cesium!,
      this._viewer!,
      data,
      options.color
    );
    const layer = this._addLayer(title, 'trajectory', hooks, options.layerId);
    this._movers.set(layer.id, mover);
    return layer;
  }

  /**
   * Where a trajectory's moving point is at `time` (the clock's current time
   * when omitted); null for an unknown layer or a time outside the track.
   */
  trajectoryPosition(
    layerId: string,
    time?: Date
  ): { lon: number; lat: number; time: string } | null {
    const Cs = this._cesium;
    const v = this._viewer;
    const entity = this._movers.get(layerId);
    if (!Cs || !v || !entity) {
      return null;
    }
    const at = time ? Cs.JulianDate.fromDate(time) : v.clock.currentTime;
    const p = entity.position?.getValue(at);
    if (!p) {
      return null;
    }
    const c = Cs.Cartographic.fromCartesian(p);
    return {
      lon: Cs.Math.toDegrees(c.longitude),
      lat: Cs.Math.toDegrees(c.latitude),
      time: Cs.JulianDate.toDate(at).toISOString()
    };
  }

  /** Set the clock: its time, speed (simulated seconds per second) and whether it runs. */
  setClock(options: {
    time?: Date;
    multiplier?: number;
    play?: boolean;
  }): void {
    const Cs = this._cesium;
    const v = this._viewer;
    if (!Cs || !v) {
      return;
    }
    if (options.time) {
      if (Number.isNaN(options.time.getTime())) {
        throw new Error('Clock: the time is not a date.');
      }
      v.clock.currentTime = Cs.JulianDate.fromDate(options.time);
    }
    if (options.multiplier !== undefined) {
      v.clock.multiplier = options.multiplier;
    }
    if (options.play !== undefined) {
      v.clock.shouldAnimate = options.play;
    }
    v.scene.requestRender();
  }

  async addField(
    title: string,
    input: IFieldInput,
    options: IColorOptions & ILayerOptions = {}
  ): Promise<IGlobeLayer> {
    const data = prepareField(input, options);
    await this.ready;
    const hooks = await fieldImagery(
      this._cesium!,
      this._viewer!,
      data,
      input,
      options.colormap
    );
    return this._addLayer(title, 'grid', hooks, options.layerId);
  }

  /** A field on a curvilinear grid (2-D lat/lon), drawn as coloured quads. */
  async addMesh(
    title: string,
    input: IMeshInput,
    options: IColorOptions & ILayerOptions = {}
  ): Promise<IGlobeLayer> {
    const data = prepareMesh(input, options);
    await this.ready;
    const hooks = meshQuads(
      this._cesium!,
      this._viewer!,
      data,
      input,
      options.colormap
    );
    return this._addLayer(title, 'mesh', hooks, options.layerId);
  }

  /**
   * Footprints: boxes in degrees (`west > east` crosses the antimeridian) and
   * polygons as rings of [lon, lat] vertices.
   */
  async addFootprints(
    title: string,
    boxes: IRectangle[],
    options: ILayerOptions & {
      color?: string;
      polygons?: [number, number][][];
    } = {}
  ): Promise<IGlobeLayer> {
    const polygons = (options.polygons ?? []).map(validatePolygon);
    if (boxes.length === 0 && polygons.length === 0) {
      throw new Error('Footprints: no boxes or polygons given.');
    }
    const valid = boxes.map(validateFootprint);
    await this.ready;
    const hooks = footprintEntities(
      this._cesium!,
      this._viewer!,
      valid,
      polygons,
      options.color
    );
    return this._addLayer(title, 'footprint', hooks, options.layerId);
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

  /** Move a layer up (+1, drawn above the next) or down (-1) in the order. */
  moveLayer(id: string, delta: 1 | -1): void {
    const index = this._layers.findIndex(l => l.id === id);
    const target = index + delta;
    if (index < 0 || target < 0 || target >= this._layers.length) {
      return;
    }
    const [layer] = this._layers.splice(index, 1);
    this._layers.splice(target, 0, layer);
    // Bottom first, each raised to the top: the base imagery stays below all.
    for (const l of this._layers) {
      l.hooks.raiseToTop?.();
    }
    this._viewer?.scene.requestRender();
    this._layersChanged.emit();
  }

  removeLayer(id: string): void {
    const index = this._layers.findIndex(l => l.id === id);
    if (index < 0) {
      return;
    }
    const [layer] = this._layers.splice(index, 1);
    layer.hooks.destroy();
    this._movers.delete(id);
    this._viewer?.scene.requestRender();
    this._layersChanged.emit();
  }

  /** The camera: position in degrees and metres, orientation in degrees. */
  getCamera(): ICamera | null {
    const Cs = this._cesium;
    const v = this._viewer;
    if (!Cs || !v) {
      return null;
    }
    const c = v.camera.positionCartographic;
    const deg = Cs.Math.toDegrees;
    return {
      lon: deg(c.longitude),
      lat: deg(c.latitude),
      height: c.height,
      heading: deg(v.camera.heading),
      pitch: deg(v.camera.pitch),
      roll: deg(v.camera.roll)
    };
  }

  setCamera(camera: ICamera): void {
    const Cs = this._cesium;
    const v = this._viewer;
    if (!Cs || !v) {
      return;
    }
    const rad = Cs.Math.toRadians;
    v.camera.setView({
      destination: Cs.Cartesian3.fromDegrees(
        camera.lon,
        camera.lat,
        camera.height
      ),
      orientation: {
        heading: rad(camera.heading),
        pitch: rad(camera.pitch),
        roll: rad(camera.roll)
      }
    });
    v.scene.requestRender();
  }

  /**
   * What is under a canvas position (CSS pixels from the canvas' top left): the
   * place on the globe, and the top visible layer's value there; null off the globe.
   */
  pick(x: number, y: number): IGlobeClick | null {
    const Cs = this._cesium;
    const v = this._viewer;
    if (!Cs || !v) {
      return null;
    }
    const at = (px: number) =>
      v.camera.pickEllipsoid(new Cs.Cartesian2(px, y), v.scene.globe.ellipsoid);
    const here = at(x);
    if (!here) {
      return null;
    }
    const c = Cs.Cartographic.fromCartesian(here);
    const lon = Cs.Math.toDegrees(c.longitude);
    const lat = Cs.Math.toDegrees(c.latitude);
    // A few pixels around the pointer, in metres on the ground.
    const near = at(x + 8);
    const tolerance = near ? Cs.Cartesian3.distance(here, near) : 50000;
    const click: IGlobeClick = { lon, lat };
    for (const layer of [...this._layers].reverse()) {
      if (!layer.visible || !layer.hooks.valueAt) {
        continue;
      }
      const hit = layer.hooks.valueAt(lon, lat, tolerance);
      if (hit) {
        click.layer_id = layer.id;
        click.title = layer.title;
        click.value = Number.isFinite(hit.value) ? hit.value : null;
        click.index = hit.index;
        break;
      }
    }
    return click;
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

  /** Destroy the layers and the Cesium viewer (its WebGL context) now. */
  releaseViewer(): void {
    for (const layer of this._layers) {
      layer.hooks.destroy();
    }
    this._layers = [];
    this._viewer?.destroy();
    this._viewer = undefined;
  }

  /** Fit the viewer to its container, whose size changed. */
  resize(): void {
    this._viewer?.resize();
    this._viewer?.scene.requestRender();
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this.releaseViewer();
    Signal.clearData(this);
  }

  /** Load Cesium and create the viewer, the first time only; `ready` settles when done. */
  async start(): Promise<void> {
    if (this._started) {
      return;
    }
    this._started = true;
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
      if (this._isDisposed) {
        return;
      }
      const viewer = new Cs.Viewer(this._container, {
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
      const clicks = new Cs.ScreenSpaceEventHandler(viewer.scene.canvas);
      clicks.setInputAction((event: { position: C.Cartesian2 }) => {
        const hit = this.pick(event.position.x, event.position.y);
        this._status.dataset.lastClick = hit
          ? JSON.stringify(hit)
          : 'off-globe';
        if (hit) {
          this._clicked.emit(hit);
        }
      }, Cs.ScreenSpaceEventType.LEFT_CLICK);
      viewer.camera.moveEnd.addEventListener(() => {
        const camera = this.getCamera();
        if (camera) {
          this._cameraChanged.emit(camera);
        }
      });
      viewer.scene.canvas.addEventListener('webglcontextlost', () => {
        this._status.dataset.contextLost = 'true';
      });
      let frames = 0;
      viewer.scene.postRender.addEventListener(() => {
        frames++;
        // For benchmarks: frames drawn, and points drawn in the last frame.
        this._status.dataset.frames = String(frames);
        let points = 0;
        for (const parts of this._pointBatches.values()) {
          for (const p of parts) {
            points += p.values.length;
          }
        }
        this._status.dataset.renderedPoints = String(points);
        if (frames === 1) {
          this._status.dataset.state = 'ready';
        }
        if (viewer.scene.globe.tilesLoaded) {
          this._status.dataset.tilesLoaded = 'true';
        }
      });
      this._cesium = Cs;
      this._viewer = viewer;
      this._status.dataset.mode = '3d';
      this._ready.resolve();
    } catch (reason) {
      this._status.dataset.state = 'error';
      this._onError(reason);
      this._ready.reject(reason);
    }
  }

  private _addLayer(
    title: string,
    globeKind: GlobeLayerKind,
    hooks: ILayerHooks,
    layerId?: string
  ): IGlobeLayer {
    if (layerId !== undefined && this._layers.some(l => l.id === layerId)) {
      hooks.destroy();
      throw new Error(`The globe already has a layer ${layerId}.`);
    }
    const id = layerId ?? `globe-layer-${++nextLayer}`;
    const entry: ILayerEntry = {
      id,
      title,
      kind: CORE_KIND[globeKind],
      globeKind,
      dataset: syntheticDataset(id, title),
      visible: true,
      opacity: 1,
      legend: hooks.legend,
      hooks
    };
    this._layers.push(entry);
    this._viewer?.scene.requestRender();
    this._layersChanged.emit();
    return entry;
  }

  private _update(id: string, change: (layer: ILayerEntry) => void): void {
    const layer = this._layers.find(l => l.id === id);
    if (!layer) {
      return;
    }
    change(layer);
    layer.hooks.apply(layer);
    this._viewer?.scene.requestRender();
  }

  private _cesium: Cesium | undefined;
  private _viewer: C.Viewer | undefined;
  private _started = false;
  private _ready = new PromiseDelegate<void>();
  private _layers: ILayerEntry[] = [];
  private _layersChanged = new Signal<this, void>(this);
  private _clicked = new Signal<this, IGlobeClick>(this);
  private _cameraChanged = new Signal<this, ICamera>(this);
  private _pointBatches = new Map<string, IPointBatch[]>();
  private _movers = new Map<string, C.Entity>();
  private _isDisposed = false;
  private _container: HTMLElement;
  private _status: HTMLElement;
  private _onError: (reason: unknown) => void;
}
