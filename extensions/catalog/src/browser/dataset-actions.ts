/**
 * What the catalogue hands the other extensions through their tokens: the dataset a
 * previewer opens (`IDatasetPreviewer`) and the footprint the globe draws (`IGlobe`).
 */
import type { DatasetReference, IGlobe } from '@espri-vre/core';
import { type DatasetRecord, toDatasetReference } from '../record';

/**
 * The reference the previewer opens for a record read from a file or store on the
 * server: the record's identity with that one path as its way in.
 */
export function previewReference(
  record: DatasetRecord,
  path: string
): DatasetReference {
  return {
    ...toDatasetReference(record),
    access: [{ url: path, protocol: 'file' }]
  };
}

/**
 * A record's footprint for the globe: its bbox as a box, and the outer ring of each
 * polygon of its GeoJSON geometry; null when the catalogue gives neither.
 */
export function recordFootprint(
  record: DatasetRecord
): IGlobe.IFootprint | null {
  const { bbox, geometry } = record.spatial ?? {};
  const boxes: IGlobe.IBoundingBox[] =
    bbox === undefined
      ? []
      : [{ west: bbox[0], south: bbox[1], east: bbox[2], north: bbox[3] }];
  const polygons: number[][][][] =
    geometry === undefined
      ? []
      : geometry.type === 'Polygon'
        ? [geometry.coordinates as number[][][]]
        : (geometry.coordinates as number[][][][]);
  const rings = polygons
    .map(polygon => polygon[0] ?? [])
    .filter(ring => ring.length >= 3)
    .map(ring => ring.map(([lon, lat]) => [lon, lat] as [number, number]));
  if (boxes.length === 0 && rings.length === 0) {
    return null;
  }
  return { title: record.title, boxes, polygons: rings };
}
