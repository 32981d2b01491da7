/**
 * The one result model of the Data panel, and the helpers every catalogue adapter
 * uses to fill it.
 *
 * Every adapter (ESGF, STAC, THREDDS, CSW, intake-esm) turns what its protocol answers
 * into `DatasetRecord`s, so that the panel, the code generator and the actions (preview,
 * globe, provenance) handle one shape. Field names are snake_case like
 * `DatasetReference` in `@espri-vre/core`, which `toDatasetReference` derives from a
 * record.
 *
 * Text from catalogues is kept as plain text: nothing here interprets or strips markup,
 * and the panel renders these strings as text nodes, never as HTML.
 */
import type {
  AccessProtocol,
  AccessUrl,
  CatalogKind,
  DatasetIdentifiers,
  DatasetReference
} from '@espri-vre/core';

/**
 * How an access URL is read: the protocols of `@espri-vre/core`'s `AccessProtocol`,
 * plus `globus` (a Globus endpoint path, for transfers only) and `other` (a link the
 * suite cannot open itself, such as a THREDDS catalogue page, LAS, GridFTP or SRM).
 */
export type RecordAccessProtocol = AccessProtocol | 'globus' | 'other';

/**
 * A checksum as the catalogue states it (`type` in upper case: `SHA256`, `MD5`, ...).
 */
export interface Checksum {
  type: string;
  value: string;
}

/**
 * One way to reach a record's content, with what the catalogue says about it.
 */
export interface RecordAccessUrl extends Omit<AccessUrl, 'protocol'> {
  protocol: RecordAccessProtocol;
  /** The catalogue's own service name (`HTTPServer`, `OPENDAP`, `OGC:WMS`, ...). */
  service?: string;
  /** The STAC asset key, THREDDS service name or online-resource name. */
  name?: string;
  /** STAC asset roles (`data`, `metadata`, `thumbnail`, ...). */
  roles?: string[];
  /** Size in bytes of what this URL answers, when known. */
  size?: number;
  checksum?: Checksum;
}

/**
 * A variable the dataset holds.
 */
export interface RecordVariable {
  name: string;
  long_name?: string;
  units?: string;
  /** CF standard name, only when the catalogue says it is one. */
  standard_name?: string;
}

/** `[west, south, east, north]` in degrees (WGS 84 longitude/latitude). */
export type BBox = [number, number, number, number];

/**
 * A GeoJSON polygon geometry (lon/lat positions).
 */
export interface PolygonGeometry {
  type: 'Polygon' | 'MultiPolygon';
  coordinates: number[][][] | number[][][][];
}

export interface SpatialExtent {
  bbox?: BBox;
  geometry?: PolygonGeometry;
}

/**
 * A time range as ISO 8601 strings, as the catalogue wrote them (model calendars allow
 * dates such as year 0001 or 30 February, so they are not converted to `Date`). A
 * missing end means open-ended.
 */
export interface TemporalExtent {
  start?: string;
  end?: string;
}

/**
 * The identifiers of a record: `DatasetReference`'s, plus ESGF's `master_id` (the
 * dataset id without its version). The version itself is `DatasetRecord.version`.
 */
export interface RecordIdentifiers extends Omit<DatasetIdentifiers, 'version'> {
  master_id?: string;
}

export interface Licence {
  /** The licence's name or text (e.g. `CC-BY-4.0`, or a use-constraints statement). */
  text: string;
  url?: string;
}

export interface Citation {
  /** A citation to copy, in DataCite's recommended order. */
  text: string;
  /** Where the authoritative citation lives (DOI, handle, citation service). */
  url?: string;
}

export interface RecordDates {
  created?: string;
  modified?: string;
  issued?: string;
}

/**
 * A dataset, file, collection or catalogue entry, whatever catalogue it came from.
 */
export interface DatasetRecord {
  /** Identifier unique within its source catalogue. */
  id: string;
  title: string;
  source: { catalog_id: string; kind: CatalogKind };
  description?: string;
  /** Searchable properties, each with its values (CMIP6 DRS facets, keywords, ...). */
  facets: Record<string, string[]>;
  spatial?: SpatialExtent;
  temporal?: TemporalExtent;
  variables: RecordVariable[];
  /** Ways to reach the content, data first. */
  access: RecordAccessUrl[];
  /** Total size in bytes. */
  size?: number;
  /** Checksum of the content, when the record is one file. */
  checksum?: Checksum;
  version?: string;
  identifiers: RecordIdentifiers;
  licence?: Licence;
  citation?: Citation;
  dates?: RecordDates;
  /** The id of the dataset a file belongs to (ESGF `dataset_id`). */
  parent_id?: string;
}

/**
 * Facet values with their counts, as search services report them, values in the
 * service's order.
 */
export type FacetCounts = Record<
  string,
  Array<{ value: string; count: number }>
>;

/**
 * A catalogue answer that cannot be read: malformed JSON or XML, an HTML error page,
 * or a document of the wrong kind. The message names the source and the problem, so
 * the panel can show it as is.
 */
export class CatalogParseError extends Error {
  /** What was being read, e.g. `ESGF search response` or a URL. */
  readonly source: string;
  /** What is wrong with it. */
  readonly problem: string;

  constructor(source: string, problem: string) {
    super(`Cannot read ${source}: ${problem}`);
    this.name = 'CatalogParseError';
    this.source = source;
    this.problem = problem;
  }
}

/** A JSON object, as opposed to an array or a scalar. */
export type JsonObject = { [key: string]: unknown };

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A short, single-line excerpt of a body for error messages.
 */
export function excerpt(text: string, length = 80): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > length ? `${flat.slice(0, length)}…` : flat;
}

/**
 * Parse a response body expected to be a JSON object. An already parsed value is
 * checked the same way, so callers may pass either the text or the result of
 * `response.json()`.
 *
 * @throws CatalogParseError on malformed JSON, on an HTML or XML page (such as a
 *   proxy's or server's error page) and on anything but an object.
 */
export function parseJsonObject(body: unknown, source: string): JsonObject {
  let value = body;
  if (typeof body === 'string') {
    const text = body.trim();
    if (text === '') {
      throw new CatalogParseError(source, 'the response is empty');
    }
    if (text.startsWith('<')) {
      // Proxies and servers answer errors with HTML pages; their title says what failed.
      const title = /<title[^>]*>([^<]*)<\/title>/i.exec(text)?.[1]?.trim();
      throw new CatalogParseError(
        source,
        title
          ? `expected JSON but got an HTML page titled "${excerpt(title, 80)}"`
          : `expected JSON but got an HTML or XML document ("${excerpt(text, 60)}")`
      );
    }
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new CatalogParseError(
        source,
        `malformed JSON (${error instanceof Error ? error.message : String(error)})`
      );
    }
  }
  if (!isJsonObject(value)) {
    const kind = Array.isArray(value)
      ? 'an array'
      : value === null
        ? 'null'
        : typeof value;
    throw new CatalogParseError(
      source,
      `expected a JSON object but got ${kind}`
    );
  }
  return value;
}

/** A non-empty trimmed string, or undefined. */
export function asString(value: unknown): string | undefined {
  if (typeof value === 'string') {
    const text = value.trim();
    return text === '' ? undefined : text;
  }
  if (typeof value === 'number' && Number.isFinite(value)) {
    return String(value);
  }
  return undefined;
}

/** The first string of a value that may be a string or a list of strings. */
export function firstString(value: unknown): string | undefined {
  if (Array.isArray(value)) {
    for (const item of value) {
      const text = asString(item);
      if (text !== undefined) {
        return text;
      }
    }
    return undefined;
  }
  return asString(value);
}

/** The strings of a value that may be a string or a list of strings. */
export function stringList(value: unknown): string[] {
  const items = Array.isArray(value) ? value : [value];
  const out: string[] = [];
  for (const item of items) {
    const text = asString(item);
    if (text !== undefined) {
      out.push(text);
    }
  }
  return out;
}

/** A finite number from a number or a numeric string, or undefined. */
export function asNumber(value: unknown): number | undefined {
  const item = Array.isArray(value) ? value[0] : value;
  if (typeof item === 'number') {
    return Number.isFinite(item) ? item : undefined;
  }
  if (typeof item === 'string' && item.trim() !== '') {
    const parsed = Number(item);
    return Number.isFinite(parsed) ? parsed : undefined;
  }
  return undefined;
}

/**
 * A bbox `[west, south, east, north]` when all four are finite and within the
 * geographic ranges (longitudes may use 0..360); undefined otherwise.
 */
export function makeBBox(
  west: unknown,
  south: unknown,
  east: unknown,
  north: unknown
): BBox | undefined {
  const w = asNumber(west);
  const s = asNumber(south);
  const e = asNumber(east);
  const n = asNumber(north);
  if (
    w === undefined ||
    s === undefined ||
    e === undefined ||
    n === undefined
  ) {
    return undefined;
  }
  if (s < -90 || n > 90 || s > n || w < -180 || e > 360) {
    return undefined;
  }
  return [w, s, e, n];
}

/**
 * The smallest bbox covering all of `boxes`. Boxes crossing the antimeridian
 * (west > east) make a union meaningless without more care, so then the first box is
 * returned as is.
 */
export function unionBBox(boxes: BBox[]): BBox | undefined {
  if (boxes.length === 0) {
    return undefined;
  }
  if (boxes.some(box => box[0] > box[2])) {
    return boxes[0];
  }
  return [
    Math.min(...boxes.map(box => box[0])),
    Math.min(...boxes.map(box => box[1])),
    Math.max(...boxes.map(box => box[2])),
    Math.max(...boxes.map(box => box[3]))
  ];
}

const URL_SCHEMES = new Set([
  'http:',
  'https:',
  'ftp:',
  's3:',
  'gs:',
  'gsiftp:',
  'globus:',
  'file:',
  'srm:',
  'dap4:'
]);

/**
 * `href` resolved against `base`, or undefined when it is not a URL the panel may
 * offer: only data-transfer schemes are kept, so that a catalogue cannot slip a
 * `javascript:` or `data:` link into the panel.
 */
export function safeUrl(
  href: string | undefined,
  base?: string
): string | undefined {
  if (href === undefined) {
    return undefined;
  }
  const text = href.trim();
  // The URL parser silently drops tabs and newlines, which hides what the link says.
  if (text === '' || Array.from(text).some(char => char.charCodeAt(0) < 0x20)) {
    return undefined;
  }
  let url: URL;
  try {
    url = base === undefined ? new URL(text) : new URL(text, base);
  } catch {
    return undefined;
  }
  if (!URL_SCHEMES.has(url.protocol)) {
    return undefined;
  }
  // The scheme-specific forms (globus:<endpoint>/<path>, gsiftp://host//path) lose
  // meaning when normalised, so absolute input is returned as written.
  return base === undefined || /^[a-z][a-z0-9+.-]*:/i.test(text)
    ? text
    : url.href;
}

function cleanDoi(doi: string): string {
  return doi.replace(/[.,;)\]]+$/, '');
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    // A stray '%' is not an escape: keep the text as written.
    return text;
  }
}

/**
 * A DOI as `10.xxxx/suffix` when `text` is one: a bare DOI, `doi:10...`,
 * `urn:doi:10...`, `info:doi/10...`, or a doi.org / dx.doi.org URL. Undefined
 * otherwise (a URL that merely contains `10.` in its path is not a DOI).
 */
export function normaliseDoi(text: string | undefined): string | undefined {
  if (text === undefined) {
    return undefined;
  }
  const value = decoded(text.trim());
  const match =
    /^(?:doi:\s*|urn:doi:|info:doi\/|https?:\/\/(?:dx\.)?doi\.org\/)?(10\.\d{4,9}\/\S+)$/i.exec(
      value
    );
  return match ? cleanDoi(match[1]) : undefined;
}

/**
 * The first DOI written in free text (`... doi:10.1234/x ...`, `https://doi.org/...`,
 * `DOI 10.1234/x`), as `10.xxxx/suffix`.
 */
export function findDoi(text: string | undefined): string | undefined {
  if (text === undefined) {
    return undefined;
  }
  const value = decoded(text);
  const marked =
    /(?:doi\.org\/|doi:\s*|\bdoi\s+)(10\.\d{4,9}\/[^\s"<>]+)/i.exec(value);
  if (marked) {
    return cleanDoi(marked[1]);
  }
  return normaliseDoi(value);
}

/** A handle as `hdl:prefix/suffix` from `hdl:...`, a bare handle or a hdl.handle.net URL. */
export function normalisePid(text: string | undefined): string | undefined {
  if (text === undefined) {
    return undefined;
  }
  const value = text.trim();
  const match =
    /^(?:https?:\/\/hdl\.handle\.net\/)?(?:hdl:)?(\d[\w.]*\/\S+)$/i.exec(value);
  return match ? `hdl:${match[1]}` : undefined;
}

/** The resolver URL of a DOI (`10...`) or handle (`hdl:...`). */
export function identifierUrl(
  identifiers: RecordIdentifiers
): string | undefined {
  if (identifiers.doi) {
    return `https://doi.org/${identifiers.doi}`;
  }
  if (identifiers.pid) {
    return `https://hdl.handle.net/${identifiers.pid.replace(/^hdl:/, '')}`;
  }
  return undefined;
}

/**
 * A citation text in DataCite's recommended order:
 * `Creators (Year): Title. Version. Publisher. Identifier`, leaving out what is unknown.
 */
export function formatCitation(parts: {
  creators?: string[];
  year?: string;
  title: string;
  version?: string;
  publisher?: string;
  url?: string;
}): string {
  const pieces: string[] = [];
  const creators = (parts.creators ?? []).join(', ');
  const head = [creators, parts.year ? `(${parts.year})` : '']
    .filter(Boolean)
    .join(' ');
  pieces.push(head ? `${head}: ${parts.title}` : parts.title);
  if (parts.version) {
    pieces.push(`Version ${parts.version}`);
  }
  if (parts.publisher) {
    pieces.push(parts.publisher);
  }
  if (parts.url) {
    pieces.push(parts.url);
  }
  return (
    pieces.map(piece => piece.replace(/\.$/, '')).join('. ') +
    (parts.url ? '' : '.')
  );
}

const BYTE_UNITS: Record<string, number> = {
  b: 1,
  byte: 1,
  bytes: 1,
  kb: 1e3,
  kbytes: 1e3,
  mb: 1e6,
  mbytes: 1e6,
  gb: 1e9,
  gbytes: 1e9,
  tb: 1e12,
  tbytes: 1e12,
  pb: 1e15,
  pbytes: 1e15
};

/**
 * Bytes from a value and a unit name (`Kbytes`, `Mbytes`, ...). THREDDS uses decimal
 * multiples (a file of 311,193,420 bytes is listed as 311.1 Mbytes).
 */
export function toBytes(
  value: number,
  unit: string | undefined
): number | undefined {
  const factor = BYTE_UNITS[(unit ?? 'bytes').trim().toLowerCase()];
  return factor === undefined ? undefined : Math.round(value * factor);
}

/**
 * How a URL is read, from what the catalogue says about it: a service name (ESGF,
 * THREDDS, ISO online-resource protocol), a media type, or the URL itself.
 */
export function guessProtocol(hint: {
  url: string;
  service?: string;
  mediaType?: string;
}): RecordAccessProtocol {
  const service = (hint.service ?? '').toLowerCase();
  const media = (hint.mediaType ?? '').toLowerCase();
  const url = hint.url.toLowerCase();
  if (
    /opendap|dap4|dods/.test(service) ||
    media.includes('opendap') ||
    media === 'application/vnd.opendap'
  ) {
    return 'opendap';
  }
  if (
    service.includes('globus') ||
    url.startsWith('globus:') ||
    url.includes('app.globus.org')
  ) {
    return 'globus';
  }
  if (/netcdfsubset|ncss/.test(service) || url.includes('/ncss/')) {
    return 'ncss';
  }
  if (/\bwms\b|ogc:wms/.test(service) || media.includes('wms')) {
    return 'wms';
  }
  if (/\bwcs\b|ogc:wcs/.test(service) || media.includes('wcs')) {
    return 'wcs';
  }
  if (service === 'ogc:csw' || media.includes('csw')) {
    return 'csw';
  }
  if (media.includes('zarr') || /\.zarr\/?$/.test(url)) {
    return 'zarr';
  }
  if (media.includes('kerchunk')) {
    return 'kerchunk';
  }
  if (url.startsWith('s3:')) {
    return 's3';
  }
  if (url.startsWith('file:')) {
    return 'file';
  }
  if (
    /^(gridftp|srm|las|thredds|catalog|resolver|iso|ncml|uddc|cdmremote|www:link)/.test(
      service
    ) ||
    media === 'text/html' ||
    media.includes('thredds')
  ) {
    return 'other';
  }
  if (url.includes('/dodsc/')) {
    return 'opendap';
  }
  if (/^https?:/.test(url)) {
    return 'http';
  }
  return 'other';
}

const REFERENCE_PROTOCOLS: ReadonlySet<string> = new Set<AccessProtocol>([
  'opendap',
  'http',
  'zarr',
  'kerchunk',
  'file',
  'ncss',
  'wms',
  'wcs',
  's3',
  'esgf-search',
  'stac',
  'csw'
]);

function isReferenceProtocol(
  protocol: RecordAccessProtocol
): protocol is AccessProtocol {
  return REFERENCE_PROTOCOLS.has(protocol);
}

/**
 * The `DatasetReference` the other extensions (preview, globe, provenance, jobs)
 * take. Only access URLs the suite can open are passed on (Globus and `other` links
 * stay in the record, for the panel to show).
 */
export function toDatasetReference(record: DatasetRecord): DatasetReference {
  const access: AccessUrl[] = [];
  for (const item of record.access) {
    if (isReferenceProtocol(item.protocol)) {
      const entry: AccessUrl = { url: item.url, protocol: item.protocol };
      if (item.media_type !== undefined) {
        entry.media_type = item.media_type;
      }
      if (item.description !== undefined) {
        entry.description = item.description;
      }
      access.push(entry);
    }
  }
  const identifiers: DatasetIdentifiers = {};
  const { pid, doi, tracking_ids, instance_id } = record.identifiers;
  if (pid !== undefined) {
    identifiers.pid = pid;
  }
  if (doi !== undefined) {
    identifiers.doi = doi;
  }
  if (tracking_ids !== undefined && tracking_ids.length > 0) {
    identifiers.tracking_ids = [...tracking_ids];
  }
  if (instance_id !== undefined) {
    identifiers.instance_id = instance_id;
  }
  if (record.version !== undefined) {
    identifiers.version = record.version;
  }
  const reference: DatasetReference = {
    id: record.id,
    title: record.title,
    source: { ...record.source },
    identifiers,
    access
  };
  if (record.size !== undefined) {
    reference.size = record.size;
  }
  // One media type across the ways in (say an OPeNDAP endpoint and the NetCDF file
  // behind it) is the dataset's; several mean several kinds of content.
  const mediaTypes = new Set(
    access
      .map(item => item.media_type)
      .filter((type): type is string => type !== undefined)
  );
  if (mediaTypes.size === 1) {
    reference.media_type = [...mediaTypes][0];
  }
  return reference;
}

/**
 * Add `values` to `facets[key]`, keeping each value once, in first-seen order.
 */
export function addFacet(
  facets: Record<string, string[]>,
  key: string,
  values: unknown
): void {
  const list = stringList(values);
  if (list.length === 0) {
    return;
  }
  const current = facets[key] ?? [];
  for (const value of list) {
    if (!current.includes(value)) {
      current.push(value);
    }
  }
  facets[key] = current;
}

/**
 * A record with the fields every adapter fills, to be completed by the adapter.
 */
export function emptyRecord(
  id: string,
  title: string,
  catalogId: string,
  kind: CatalogKind
): DatasetRecord {
  return {
    id,
    title,
    source: { catalog_id: catalogId, kind },
    facets: {},
    variables: [],
    access: [],
    identifiers: {}
  };
}

/**
 * Set `record[key]` to the fields of `fields` that are defined, and leave it unset when
 * none is: a record says only what its catalogue says (an extent with neither start nor
 * end is no extent).
 */
export function setDefined<K extends 'spatial' | 'temporal' | 'dates'>(
  record: DatasetRecord,
  key: K,
  fields: NonNullable<DatasetRecord[K]>
): void {
  const defined = Object.entries(fields).filter(
    ([, value]) => value !== undefined
  );
  if (defined.length > 0) {
    record[key] = Object.fromEntries(defined) as DatasetRecord[K];
  }
}

/** Checksum with the type in upper case (`sha256` and `SHA256` both occur). */
export function makeChecksum(
  type: unknown,
  value: unknown
): Checksum | undefined {
  const kind = firstString(type);
  const digest = firstString(value);
  if (kind === undefined || digest === undefined) {
    return undefined;
  }
  return { type: kind.toUpperCase().replace(/-/g, ''), value: digest };
}

/** The last path segment of a URL or path, without query or fragment. */
export function baseName(url: string): string {
  const path = url.split(/[?#]/)[0].replace(/\/+$/, '');
  const name = path.slice(path.lastIndexOf('/') + 1);
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}
