/**
 * The Globe main-area widget: a CesiumJS viewer with the offline NaturalEarthII
 * base layer, view-mode buttons, PNG export and the layers list.
 */
import type { DatasetReference, IGlobe } from '@espri-vre/core';
import { PromiseDelegate } from '@lumino/coreutils';
import type { Message } from '@lumino/messaging';
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';
import type { TranslationBundle } from '@jupyterlab/translation';
import { nullTranslator } from '@jupyterlab/translation';
import type * as C from 'cesium';
import { type Cesium, loadCesium } from './cesium-loader';
import { type ColormapName, colorFor } from './colormap';
import {
  type IColorOptions,
  type IFieldInput,
  type IMeshInput,
  type IPointsInput,
  type IRectangle,
  type ITrajectoryInput,
  fieldValueAt,
  meshValueAt,
  nearestPoint,
  prepareField,
  prepareMesh,
  preparePoints,
  prepareTrajectory,
  validateFootprint,
  validatePolygon
} from './layer-data';
import { meshPrimitive, PointCloud, vertexColorAppearance } from './primitives';

export const GLOBE_ID = 'espri-vre-globe';

/** What a layer draws; `IGlobe.ILayer.kind` groups them as grid, points or lines. */
export type GlobeLayerKind =
  'grid' | 'mesh' | 'points' | 'trajectory' | 'footprint';

const CORE_KIND: Record<GlobeLayerKind, IGlobe.ILayer['kind']> = {
  grid: 'grid',
  mesh: 'grid',
  points: 'points',
  trajectory: 'lines',
  footprint: 'lines'
};

/** A layer's colour scale, shown as its legend. */
export interface ILegend {
  colormap: ColormapName;
  min: number;
  max: number;
}

/** A layer on the globe with its Cesium objects. */
export interface IGlobeLayer extends IGlobe.ILayer {
  globeKind: GlobeLayerKind;
  visible: boolean;
  opacity: number;
  legend?: ILegend;
}

/** What a click on the globe hit: the place, and the top layer's value there. */
export interface IGlobeClick {
  lon: number;
  lat: number;
  layer_id?: string;
  title?: string;
  value?: number | null;
  index?: number;
}

interface ILayerHooks {
  apply: (layer: IGlobeLayer) => void;
  destroy: () => void;
  /** Draw order: put the layer's Cesium objects above all others of their kind. */
  raiseToTop?: () => void;
  /** The value under (lon, lat), `tolerance` metres around for points. */
  valueAt?: (
    lon: number,
    lat: number,
    tolerance: number
  ) => { value: number; index: number } | null;
  legend?: ILegend;
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

export namespace GlobeWidget {
  export interface IOptions {
    /** The DOM id; the main-area globe's by default. */
    id?: string;
    trans?: TranslationBundle;
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

export class GlobeWidget extends Widget {
  constructor(options: GlobeWidget.IOptions = {}) {
    super();
    const trans = (this._trans =
      options.trans ?? nullTranslator.load('espri_vre'));
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

  /** Emitted when the globe is clicked, with the top visible layer's value there. */
  get clicked(): Signal<this, IGlobeClick> {
    return this._clicked;
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
    const batch = {
      primitive: v.scene.primitives.add(
        new PointCloud(Cs, data.lonLat, data.rgba, data.count, pixelSize)
      ) as PointCloud,
      lonLat: data.lonLat,
      values: Float64Array.from(input.values)
    };
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
      {
        apply: l => {
          for (const p of parts) {
            p.primitive.show = l.visible;
            p.primitive.alpha = l.opacity;
          }
        },
        destroy: () => {
          for (const p of parts) {
            v.scene.primitives.remove(p.primitive);
          }
          this._pointBatches.delete(layer.id);
        },
        raiseToTop: () => {
          for (const p of parts) {
            v.scene.primitives.raiseToTop(p.primitive);
          }
        },
        valueAt: (lon, lat, tolerance) => {
          let offset = 0;
          for (const p of parts) {
            const i = nearestPoint(p.lonLat, lon, lat, tolerance);
            if (i >= 0) {
              return { value: p.values[i], index: offset + i };
            }
            offset += p.values.length;
          }
          return null;
        },
        legend
      },
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
    if (!base) {
      throw new Error(`Trajectory: "${options.color}" is not a CSS colour.`);
    }
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
    const layer = this._addLayer(
      title,
      'trajectory',
      {
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
      },
      options.layerId
    );
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
    const lookup: IFieldInput = {
      lon: Float64Array.from(input.lon),
      lat: Float64Array.from(input.lat),
      values: Float64Array.from(input.values)
    };
    return this._addLayer(
      title,
      'grid',
      {
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
        },
        raiseToTop: () => {
          for (const l of imagery) {
            v.imageryLayers.raiseToTop(l);
          }
        },
        valueAt: (lon, lat) => fieldValueAt(lookup, lon, lat),
        legend: {
          colormap: options.colormap ?? 'viridis',
          min: data.min,
          max: data.max
        }
      },
      options.layerId
    );
  }

  /** A field on a curvilinear grid (2-D lat/lon), drawn as coloured quads. */
  async addMesh(
    title: string,
    input: IMeshInput,
    options: IColorOptions & ILayerOptions = {}
  ): Promise<IGlobeLayer> {
    const data = prepareMesh(input, options);
    await this.ready;
    const Cs = this._cesium!;
    const v = this._viewer!;
    const mesh = v.scene.primitives.add(
      meshPrimitive(Cs, data.corners, data.rgba, data.count)
    ) as C.Primitive;
    const lookup: IMeshInput = {
      lon: Float64Array.from(input.lon),
      lat: Float64Array.from(input.lat),
      values: Float64Array.from(input.values),
      shape: input.shape
    };
    return this._addLayer(
      title,
      'mesh',
      {
        apply: layer => {
          mesh.show = layer.visible;
          mesh.appearance = vertexColorAppearance(Cs, {
            alpha: layer.opacity
          });
        },
        destroy: () => {
          v.scene.primitives.remove(mesh);
        },
        raiseToTop: () => {
          v.scene.primitives.raiseToTop(mesh);
        },
        valueAt: (lon, lat, tolerance) =>
          meshValueAt(lookup, lon, lat, Math.max(tolerance, 200000)),
        legend: {
          colormap: options.colormap ?? 'viridis',
          min: data.min,
          max: data.max
        }
      },
      options.layerId
    );
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
    const Cs = this._cesium!;
    const v = this._viewer!;
    const base = Cs.Color.fromCssColorString(options.color ?? '#ffd700');
    if (!base) {
      throw new Error(`Footprints: "${options.color}" is not a CSS colour.`);
    }
    const entities = [
      ...valid.map(b =>
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
      ),
      ...polygons.map(ring =>
        v.entities.add({
          polygon: {
            hierarchy: new Cs.PolygonHierarchy(
              Cs.Cartesian3.fromDegreesArray(ring.flat())
            ),
            material: base.withAlpha(0.25),
            height: 0,
            outline: true,
            outlineColor: base
          }
        })
      )
    ];
    return this._addLayer(
      title,
      'footprint',
      {
        apply: layer => {
          for (const e of entities) {
            e.show = layer.visible;
            const material = new Cs.ColorMaterialProperty(
              base.withAlpha(0.25 * layer.opacity)
            );
            if (e.rectangle) {
              e.rectangle.material = material;
            }
            if (e.polygon) {
              e.polygon.material = material;
            }
          }
        },
        destroy: () => {
          for (const e of entities) {
            v.entities.remove(e);
          }
        },
        valueAt: (lon, lat) => {
          const index = valid.findIndex(b =>
            b.west <= b.east
              ? lon >= b.west &&
                lon <= b.east &&
                lat >= b.south &&
                lat <= b.north
              : (lon >= b.west || lon <= b.east) &&
                lat >= b.south &&
                lat <= b.north
          );
          return index < 0 ? null : { value: NaN, index };
        }
      },
      options.layerId
    );
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
    this._renderLayers();
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
    this._renderLayers();
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

  /** Emitted when the camera stops moving. */
  get cameraChanged(): Signal<this, ICamera> {
    return this._cameraChanged;
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

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.releaseViewer();
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
      const clicks = new Cs.ScreenSpaceEventHandler(viewer.scene.canvas);
      clicks.setInputAction((event: { position: C.Cartesian2 }) => {
        const hit = this.pick(event.position.x, event.position.y);
        this.node.dataset.lastClick = hit ? JSON.stringify(hit) : 'off-globe';
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
        this.node.dataset.contextLost = 'true';
      });
      let frames = 0;
      viewer.scene.postRender.addEventListener(() => {
        frames++;
        // For benchmarks: frames drawn, and points drawn in the last frame.
        this.node.dataset.frames = String(frames);
        let points = 0;
        for (const parts of this._pointBatches.values()) {
          for (const p of parts) {
            points += p.values.length;
          }
        }
        this.node.dataset.renderedPoints = String(points);
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
    layer.hooks.apply(layer);
    this._viewer?.scene.requestRender();
  }

  private _legend(legend: ILegend): HTMLElement {
    const node = document.createElement('div');
    node.className = 'jp-EspriVre-globeLegend';
    node.dataset.colormap = legend.colormap;
    node.dataset.min = String(legend.min);
    node.dataset.max = String(legend.max);
    const stops = [0, 0.25, 0.5, 0.75, 1].map(t => {
      const [r, g, b] = colorFor(t, 0, 1, legend.colormap);
      return `rgb(${r}, ${g}, ${b}) ${t * 100}%`;
    });
    const bar = document.createElement('div');
    bar.className = 'jp-EspriVre-globeLegendBar';
    bar.style.background = `linear-gradient(to right, ${stops.join(', ')})`;
    const format = (x: number) =>
      Number.isFinite(x) ? Number(x.toPrecision(4)).toString() : '–';
    const min = document.createElement('span');
    min.className = 'jp-EspriVre-globeLegendMin';
    min.textContent = format(legend.min);
    const max = document.createElement('span');
    max.className = 'jp-EspriVre-globeLegendMax';
    max.textContent = format(legend.max);
    node.append(min, bar, max);
    return node;
  }

  private _renderLayers(): void {
    const trans = this._trans;
    const list = this._layersNode;
    list.replaceChildren();
    // Top layer first, as in every map application.
    const top = this._layers.length - 1;
    [...this._layers].reverse().forEach((layer, k) => {
      const position = top - k;
      const li = document.createElement('li');
      li.className = 'jp-EspriVre-globeLayer';
      li.dataset.layerId = layer.id;
      li.dataset.kind = layer.globeKind;

      const row = document.createElement('div');
      row.className = 'jp-EspriVre-globeLayerRow';

      const visible = document.createElement('input');
      visible.type = 'checkbox';
      visible.className = 'jp-EspriVre-globeLayerVisible';
      visible.checked = layer.visible;
      visible.title = trans.__('Show or hide');
      visible.setAttribute('aria-label', trans.__('Show %1', layer.title));
      visible.addEventListener('change', () =>
        this.setLayerVisible(layer.id, visible.checked)
      );

      const name = document.createElement('span');
      name.className = 'jp-EspriVre-globeLayerTitle';
      name.textContent = layer.title;
      name.title = layer.title;

      const button = (
        className: string,
        text: string,
        title: string,
        action: () => void,
        disabled = false
      ) => {
        const b = document.createElement('button');
        b.className = `${className} jp-mod-styled`;
        b.textContent = text;
        b.title = title;
        b.setAttribute('aria-label', title);
        b.disabled = disabled;
        b.addEventListener('click', action);
        return b;
      };
      const up = button(
        'jp-EspriVre-globeLayerUp',
        '↑',
        trans.__('Move the layer up'),
        () => this.moveLayer(layer.id, 1),
        position === top
      );
      const down = button(
        'jp-EspriVre-globeLayerDown',
        '↓',
        trans.__('Move the layer down'),
        () => this.moveLayer(layer.id, -1),
        position === 0
      );
      const remove = button(
        'jp-EspriVre-globeLayerRemove',
        '×',
        trans.__('Remove the layer'),
        () => this.removeLayer(layer.id)
      );
      row.append(visible, name, up, down, remove);

      const opacity = document.createElement('input');
      opacity.type = 'range';
      opacity.className = 'jp-EspriVre-globeLayerOpacity';
      opacity.min = '0';
      opacity.max = '1';
      opacity.step = '0.05';
      opacity.value = String(layer.opacity);
      opacity.title = trans.__('Opacity');
      opacity.setAttribute('aria-label', trans.__('Opacity'));
      opacity.addEventListener('input', () =>
        this.setLayerOpacity(layer.id, Number(opacity.value))
      );

      li.append(row, opacity);
      if (layer.legend) {
        li.appendChild(this._legend(layer.legend));
      }
      list.appendChild(li);
    });
  }

  private _cesium: Cesium | undefined;
  private _viewer: C.Viewer | undefined;
  private _started = false;
  private _ready = new PromiseDelegate<void>();
  private _layers: ILayerEntry[] = [];
  private _layersChanged = new Signal<this, void>(this);
  private _clicked = new Signal<this, IGlobeClick>(this);
  private _cameraChanged = new Signal<this, ICamera>(this);
  private _pointBatches = new Map<
    string,
    { primitive: PointCloud; lonLat: Float64Array; values: Float64Array }[]
  >();
  private _movers = new Map<string, C.Entity>();
  private _trans: TranslationBundle;
  private _viewerNode: HTMLDivElement;
  private _layersNode: HTMLUListElement;
  private _errorNode: HTMLDivElement;
}
