import type { CatalogKind } from './api.generated';

/**
 * How an access URL is read.
 *
 * - `opendap`: an OPeNDAP (DAP2/DAP4) endpoint, opened by xarray/netCDF4.
 * - `http`: a plain file over HTTP(S), read whole or by Range requests.
 * - `zarr`: a Zarr v2 or v3 store (the URL of its root).
 * - `kerchunk`: a kerchunk reference set describing a NetCDF4/HDF5 file.
 * - `file`: a path on the centre's shared file system (under a data root).
 * - `ncss`: THREDDS NetCDF Subset Service.
 * - `wms` / `wcs`: OGC map and coverage services.
 * - `s3`: an object in S3-compatible object storage (`s3://bucket/key`).
 * - `esgf-search`, `stac`, `csw`: a catalogue entry point rather than the data itself.
 */
export type AccessProtocol =
  | 'opendap'
  | 'http'
  | 'zarr'
  | 'kerchunk'
  | 'file'
  | 'ncss'
  | 'wms'
  | 'wcs'
  | 's3'
  | 'esgf-search'
  | 'stac'
  | 'csw';

/**
 * One way to reach a dataset's content.
 */
export interface AccessUrl {
  /** The URL, or an absolute server-side path for `file`. */
  url: string;
  protocol: AccessProtocol;
  /** IANA media type of what the URL answers, when known (e.g. `application/x-netcdf`). */
  media_type?: string;
  /** Short human description, such as the THREDDS service name. */
  description?: string;
}

/**
 * The persistent identifiers a dataset carries. Every field is optional because each
 * catalogue knows a different subset; provenance records whatever is present.
 */
export interface DatasetIdentifiers {
  /** Handle PID (e.g. `hdl:21.14100/...`). */
  pid?: string;
  /** DOI without the resolver prefix (e.g. `10.22033/ESGF/CMIP6.1234`). */
  doi?: string;
  /** CMIP6 `tracking_id`s of the files the dataset is made of. */
  tracking_ids?: string[];
  /** ESGF dataset `instance_id` (the dotted identifier including the version). */
  instance_id?: string;
  /** Dataset version as the catalogue states it (e.g. `v20190308`). */
  version?: string;
}

/**
 * Where a dataset was found.
 */
export interface DatasetSource {
  /** Id of the configured catalogue (see `ICatalogRegistry`). */
  catalog_id: string;
  kind: CatalogKind;
}

/**
 * A dataset as the suite passes it between extensions (catalogue -> preview, globe,
 * provenance, jobs).
 *
 * Field names follow the JSON wire style of the server API and the provenance event
 * schema (snake_case), because references travel to the server and into provenance
 * records unchanged.
 */
export interface DatasetReference {
  /** Identifier unique within its source catalogue. */
  id: string;
  title: string;
  source: DatasetSource;
  identifiers: DatasetIdentifiers;
  /** Ways to open the data, best first. May be empty when the catalogue gives none. */
  access: AccessUrl[];
  /** Total size in bytes, when the catalogue states it. */
  size?: number;
  /** Media type of the dataset as a whole, when it is one file or store. */
  media_type?: string;
}
