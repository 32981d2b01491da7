/**
 * The Cesium objects of each kind of globe layer (point clouds, imagery tiles, meshes,
 * entities), and the hooks by which the viewer shows, orders, queries and removes them.
 */
import type { IGlobe } from '@espri-vre/core';
import type * as C from 'cesium';
import type { Cesium } from './cesium-loader';
import type { ColormapName } from './colormap';
import {
  type IFieldInput,
  type IMeshInput,
  type IPreparedField,
  type IPreparedMesh,
  type IPreparedPoints,
  type IPreparedTrajectory,
  type IRectangle,
  fieldValueAt,
  meshValueAt,
  nearestPoint
} from './layer-data';
import { meshPrimitive, PointCloud, vertexColorAppearance } from './primitives';

/** What a layer draws; `IGlobe.ILayer.kind` groups them as grid, points or lines. */
export type GlobeLayerKind =
  'grid' | 'mesh' | 'points' | 'trajectory' | 'footprint';

export const CORE_KIND: Record<GlobeLayerKind, IGlobe.ILayer['kind']> = {
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

/** How the viewer drives a layer's Cesium objects. */
export interface ILayerHooks {
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

/** One batch of a points layer: the Python widget sends a large layer in parts. */
export interface IPointBatch {
  primitive: PointCloud;
  lonLat: Float64Array;
  values: Float64Array;
}

/** Put a batch of prepared points in the scene. */
export function addPointBatch(
  Cs: Cesium,
  v: C.Viewer,
  data: IPreparedPoints,
  values: ArrayLike<number>,
  pixelSize: number
): IPointBatch {
  return {
    primitive: v.scene.primitives.add(
      new PointCloud(Cs, data.lonLat, data.rgba, data.count, pixelSize)
    ) as PointCloud,
    lonLat: data.lonLat,
    values: Float64Array.from(values)
  };
}

/**
 * The hooks of a points layer over its batches (`parts` grows as batches arrive).
 *
 * @param forget Called once the batches are out of the scene.
 */
export function pointsHooks(
  v: C.Viewer,
  parts: IPointBatch[],
  legend: ILegend,
  forget: () => void
): ILayerHooks {
  return {
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
      forget();
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
  };
}

/**
 * A trajectory as a polyline and a point moving along it on the clock, whose range
 * becomes the trajectory's.
 */
export function trajectoryEntities(
  Cs: Cesium,
  v: C.Viewer,
  data: IPreparedTrajectory,
  color: string | undefined
): { hooks: ILayerHooks; mover: C.Entity } {
  const position = new Cs.SampledPositionProperty();
  const positions: C.Cartesian3[] = [];
  for (const s of data.samples) {
    const p = Cs.Cartesian3.fromDegrees(s.lon, s.lat, s.height);
    positions.push(p);
    position.addSample(Cs.JulianDate.fromDate(s.time), p);
  }
  const start = Cs.JulianDate.fromDate(data.start);
  const stop = Cs.JulianDate.fromDate(data.stop);
  const base = Cs.Color.fromCssColorString(color ?? '#ff7f0e');
  if (!base) {
    throw new Error(`Trajectory: "${color}" is not a CSS colour.`);
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
  const hooks: ILayerHooks = {
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
  };
  return { hooks, mover };
}

/** A regular field as imagery tiles, one per image of the prepared field. */
export async function fieldImagery(
  Cs: Cesium,
  v: C.Viewer,
  data: IPreparedField,
  input: IFieldInput,
  colormap: ColormapName | undefined
): Promise<ILayerHooks> {
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
  return {
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
      colormap: colormap ?? 'viridis',
      min: data.min,
      max: data.max
    }
  };
}

/** A field on a curvilinear grid as one primitive of coloured quads. */
export function meshQuads(
  Cs: Cesium,
  v: C.Viewer,
  data: IPreparedMesh,
  input: IMeshInput,
  colormap: ColormapName | undefined
): ILayerHooks {
  const mesh = v.scene.primitives.add(
    meshPrimitive(Cs, data.corners, data.rgba, data.count)
  ) as C.Primitive;
  const lookup: IMeshInput = {
    lon: Float64Array.from(input.lon),
    lat: Float64Array.from(input.lat),
    values: Float64Array.from(input.values),
    shape: input.shape
  };
  return {
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
      colormap: colormap ?? 'viridis',
      min: data.min,
      max: data.max
    }
  };
}

/** Footprints as translucent rectangles and polygons with their outlines. */
export function footprintEntities(
  Cs: Cesium,
  v: C.Viewer,
  valid: IRectangle[],
  polygons: [number, number][][],
  color: string | undefined
): ILayerHooks {
  const base = Cs.Color.fromCssColorString(color ?? '#ffd700');
  if (!base) {
    throw new Error(`Footprints: "${color}" is not a CSS colour.`);
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
  return {
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
          ? lon >= b.west && lon <= b.east && lat >= b.south && lat <= b.north
          : (lon >= b.west || lon <= b.east) && lat >= b.south && lat <= b.north
      );
      return index < 0 ? null : { value: NaN, index };
    }
  };
}
