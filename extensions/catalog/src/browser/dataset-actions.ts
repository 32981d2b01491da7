/**
 * What the catalogue hands the other extensions through their tokens: the dataset a
 * previewer opens (`IDatasetPreviewer`) and the footprint the globe draws (`IGlobe`).
 */
import type { DatasetReference, IGlobe } from '@espri-vre/core';
import { type DatasetRecord, toDatasetReference } from '../record';
import { previewPath } from './model';

const NETCDF_NAME = /\.(nc|nc4|nc3|cdf|h5|hdf5|he5)$/i;

/**
 * The NetCDF files of a record on the server's file system (an intake-esm group's),
 * as paths: with two or more, the previewer combines them along time.
 */
export function serverNetcdfFiles(
  record: Pick<DatasetRecord, 'access'>
): string[] {
  return record.access
    .map(access => previewPath({ access: [access] }))
    .filter((path): path is string => path !== null && NETCDF_NAME.test(path));
}

/**
 * The access a remote record is previewed through, when the server has no copy, in
 * the previewer's order: a Zarr store over HTTP; a NetCDF/HDF5 file on a data server
 * (HTTPServer, fileServer), read by Range requests through the Jupyter server; last,
 * an OPeNDAP endpoint, read by the server one chunk at a time.
 */
export function remotePreviewAccess(
  record: Pick<DatasetRecord, 'access'>
): DatasetRecord['access'][number] | null {
  const http = record.access.filter(a => /^https?:\/\//i.test(a.url));
  return (
    http.find(a => a.protocol === 'zarr') ??
    http.find(
      a =>
        a.protocol === 'http' &&
        (a.media_type
          ? /netcdf|hdf5|x-hdf/i.test(a.media_type)
          : NETCDF_NAME.test(a.url.split(/[?#]/)[0]))
    ) ??
    http.find(a => a.protocol === 'opendap') ??
    null
  );
}

/**
 * A dataset whose catalogue lists its files (an ESGF dataset and its File records) as
 * one record whose accesses are those files on their data servers (HTTPServer,
 * fileServer), so that the previewer combines them along time, as it does an intake-esm
 * group's paths. Null unless there are two or more files and every one has such an
 * access: a dataset shown without some of its files would look whole and not be.
 */
export function datasetOfFiles(
  record: DatasetRecord,
  files: readonly Pick<DatasetRecord, 'access'>[]
): DatasetRecord | null {
  const accesses = files.map(file => {
    const access = remotePreviewAccess(file);
    return access !== null && access.protocol === 'http' ? access : null;
  });
  if (accesses.length < 2 || accesses.some(access => access === null)) {
    return null;
  }
  return { ...record, access: accesses as DatasetRecord['access'] };
}

/** The NetCDF files on data servers of a record (its HTTPServer/fileServer accesses). */
export function remoteNetcdfFiles(
  record: Pick<DatasetRecord, 'access'>
): string[] {
  return record.access
    .filter(
      access =>
        access.protocol === 'http' &&
        remotePreviewAccess({ access: [access] }) !== null
    )
    .map(access => access.url);
}

/**
 * The reference the previewer opens for a record: an intake-esm group of several
 * NetCDF files as all of them (combined along time), a file or store on the server
 * (`path`) as that path, and a remote record (no path: '') as its own accesses.
 */
export function previewReference(
  record: DatasetRecord,
  path: string
): DatasetReference {
  const reference = toDatasetReference(record);
  const files = serverNetcdfFiles(record);
  if (files.length > 1) {
    return {
      ...reference,
      access: files.map(url => ({ url, protocol: 'file' as const }))
    };
  }
  if (path === '') {
    return reference;
  }
  return { ...reference, access: [{ url: path, protocol: 'file' }] };
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
