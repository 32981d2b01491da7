/**
 * What a reload needs to draw the globe's layers again: each layer's source (the
 * footprint's boxes and polygons, the field's grid, the demo stations' count), kept
 * by layer id while the layer is on the globe, in the order they were added.
 *
 * A field larger than `MAX_KEPT_VALUES` is not kept: the workspace is saved whole at
 * each change, and the preview that drew it can send it again.
 */
import type { IGlobe } from '@espri-vre/core';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';

/** Values of a field kept at most (a 360 x 180 grid is 64,800). */
export const MAX_KEPT_VALUES = 100000;

/** One layer's source, as JSON. */
export type LayerSource =
  | { kind: 'footprint'; footprint: IGlobe.IFootprint }
  | { kind: 'field'; field: IGlobe.IField }
  | { kind: 'demo-points'; count: number };

/**
 * The sources of the layers on the globe.
 */
export class LayerSources {
  /** Keep the source of a new layer (a field too large to keep is left out). */
  add(layerId: string, source: LayerSource): void {
    if (
      source.kind === 'field' &&
      source.field.values.length > MAX_KEPT_VALUES
    ) {
      return;
    }
    this._sources.set(layerId, source);
  }

  /** Forget the layers no longer on the globe. */
  keepOnly(layerIds: Iterable<string>): void {
    const kept = new Set(layerIds);
    for (const id of [...this._sources.keys()]) {
      if (!kept.has(id)) {
        this._sources.delete(id);
      }
    }
  }

  /** The sources, bottom layer first, as the restore command's argument. */
  toJSON(): ReadonlyPartialJSONObject[] {
    return [...this._sources.values()].map(
      source => JSON.parse(JSON.stringify(source)) as ReadonlyPartialJSONObject
    );
  }

  private _sources = new Map<string, LayerSource>();
}

/**
 * The layer sources of a restore command's argument; entries that are not a source
 * (a workspace edited by hand, an older version) are left out.
 */
export function parseLayerSources(value: unknown): LayerSource[] {
  if (!Array.isArray(value)) {
    return [];
  }
  return value.filter((item): item is LayerSource => {
    const source = item as Partial<Record<string, unknown>> | null;
    switch (source?.kind) {
      case 'footprint':
        return (
          typeof source.footprint === 'object' && source.footprint !== null
        );
      case 'field': {
        const field = source.field as Partial<IGlobe.IField> | undefined;
        return (
          Array.isArray(field?.lon) &&
          Array.isArray(field?.lat) &&
          Array.isArray(field?.values)
        );
      }
      case 'demo-points':
        return Number.isInteger(source.count) && (source.count as number) > 0;
      default:
        return false;
    }
  });
}
