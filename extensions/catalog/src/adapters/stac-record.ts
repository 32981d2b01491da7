/**
 * STAC documents read into `DatasetRecord`s: links, the kind of a document, Items
 * (assets, checksums, CMIP6 identifiers) and Collections or Catalogs (extents,
 * summaries as facets), with licence and citation.
 *
 * STAC specification: https://github.com/radiantearth/stac-spec
 */
import {
  BBox,
  CatalogParseError,
  Checksum,
  DatasetRecord,
  JsonObject,
  PolygonGeometry,
  RecordAccessUrl,
  RecordVariable,
  addFacet,
  asNumber,
  asString,
  emptyRecord,
  formatCitation,
  guessProtocol,
  identifierUrl,
  isJsonObject,
  makeBBox,
  normaliseDoi,
  normalisePid,
  parseJsonObject,
  safeUrl,
  setDefined,
  stringList,
  unionBBox
} from '../record';

export type HttpMethod = 'GET' | 'POST';

/**
 * A STAC link, its `href` resolved against the document it came from.
 */
export interface StacLink {
  href: string;
  rel: string;
  type?: string;
  title?: string;
  /** STAC API paging: how to follow the link (GET when absent). */
  method?: HttpMethod;
  body?: JsonObject;
  /** Merge `body` into the previous request's body instead of replacing it. */
  merge?: boolean;
  headers?: Record<string, string>;
}

function resolveHref(
  href: unknown,
  base: string | undefined
): string | undefined {
  return safeUrl(asString(href), base);
}

/**
 * The links of a STAC document, hrefs resolved against `documentUrl` (links with a
 * scheme the panel may not offer are left out).
 */
export function stacLinks(
  doc: JsonObject,
  documentUrl: string | undefined
): StacLink[] {
  if (!Array.isArray(doc.links)) {
    return [];
  }
  const out: StacLink[] = [];
  for (const raw of doc.links) {
    if (!isJsonObject(raw)) {
      continue;
    }
    const href = resolveHref(raw.href, documentUrl);
    const rel = asString(raw.rel);
    if (href === undefined || rel === undefined) {
      continue;
    }
    const link: StacLink = { href, rel };
    const type = asString(raw.type);
    if (type !== undefined) {
      link.type = type;
    }
    const title = asString(raw.title);
    if (title !== undefined) {
      link.title = title;
    }
    const method = asString(raw.method)?.toUpperCase();
    if (method === 'GET' || method === 'POST') {
      link.method = method;
    }
    if (isJsonObject(raw.body)) {
      link.body = raw.body;
    }
    if (raw.merge === true) {
      link.merge = true;
    }
    if (isJsonObject(raw.headers)) {
      const headers: Record<string, string> = {};
      for (const [key, value] of Object.entries(raw.headers)) {
        const textValue = asString(value);
        if (textValue !== undefined) {
          headers[key] = textValue;
        }
      }
      link.headers = headers;
    }
    out.push(link);
  }
  return out;
}

/** Read one Item document. */
export function parseStacItem(
  body: unknown,
  url: string,
  catalogId: string
): DatasetRecord {
  const source = `STAC item ${url}`;
  const doc = parseJsonObject(body, source);
  if (stacType(doc) !== 'item') {
    throw new CatalogParseError(
      source,
      'not a STAC Item (no "type": "Feature" with properties)'
    );
  }
  return stacItemToRecord(doc, url, catalogId);
}

/** Read one Collection (or Catalog) document. */
export function parseStacCollection(
  body: unknown,
  url: string,
  catalogId: string
): DatasetRecord {
  const source = `STAC collection ${url}`;
  const doc = parseJsonObject(body, source);
  const type = stacType(doc);
  if (type !== 'collection' && type !== 'catalog') {
    throw new CatalogParseError(source, 'not a STAC Collection or Catalog');
  }
  return stacCollectionToRecord(doc, url, catalogId);
}

/**
 * What kind of STAC document `doc` is. Documents from before STAC 1.0 may lack
 * `type`, so its shape decides then.
 */
export function stacType(
  doc: JsonObject
): 'catalog' | 'collection' | 'item' | undefined {
  const type = asString(doc.type);
  if (
    type === 'Feature' ||
    (type === undefined && isJsonObject(doc.properties) && 'geometry' in doc)
  ) {
    return 'item';
  }
  if (
    type === 'Collection' ||
    (type === undefined && isJsonObject(doc.extent))
  ) {
    return 'collection';
  }
  if (
    type === 'Catalog' ||
    (type === undefined &&
      Array.isArray(doc.links) &&
      asString(doc.id) !== undefined)
  ) {
    return 'catalog';
  }
  return undefined;
}

const MULTIHASH: Array<[prefix: string, type: string, hexLength: number]> = [
  ['1220', 'SHA256', 64],
  ['1340', 'SHA512', 128],
  ['1114', 'SHA1', 40],
  ['d50110', 'MD5', 32]
];

/**
 * A checksum from the File extension's `file:checksum`, a multihash in hex (for
 * SHA-256 `1220` followed by the digest).
 */
export function decodeMultihash(hex: string): Checksum {
  const value = hex.trim().toLowerCase();
  for (const [prefix, type, length] of MULTIHASH) {
    if (value.startsWith(prefix) && value.length === prefix.length + length) {
      return { type, value: value.slice(prefix.length) };
    }
  }
  return { type: 'MULTIHASH', value };
}

function assetAccess(
  key: string,
  asset: JsonObject,
  baseUrl: string | undefined
): RecordAccessUrl | undefined {
  const url = resolveHref(asset.href, baseUrl);
  if (url === undefined) {
    return undefined;
  }
  const mediaType = asString(asset.type);
  const access: RecordAccessUrl = {
    url,
    protocol: guessProtocol({
      url,
      mediaType,
      service: asString(asset.protocol)
    }),
    name: key,
    description: asString(asset.title) ?? asString(asset.description) ?? key
  };
  if (mediaType !== undefined) {
    access.media_type = mediaType;
  }
  const roles = stringList(asset.roles);
  if (roles.length > 0) {
    access.roles = roles;
  }
  const size = asNumber(asset['file:size']);
  if (size !== undefined) {
    access.size = size;
  }
  const checksum = asString(asset['file:checksum']);
  if (checksum !== undefined) {
    access.checksum = decodeMultihash(checksum);
  }
  return access;
}

function assetsOf(
  doc: JsonObject,
  baseUrl: string | undefined
): RecordAccessUrl[] {
  if (!isJsonObject(doc.assets)) {
    return [];
  }
  const out: RecordAccessUrl[] = [];
  for (const [key, asset] of Object.entries(doc.assets)) {
    if (isJsonObject(asset)) {
      const access = assetAccess(key, asset, baseUrl);
      if (access !== undefined) {
        out.push(access);
      }
    }
  }
  // Data first, in the catalogue's order; thumbnails and metadata after.
  const isData = (item: RecordAccessUrl): boolean =>
    item.roles?.includes('data') ?? false;
  return [...out.filter(isData), ...out.filter(item => !isData(item))];
}

function geometryOf(value: unknown): PolygonGeometry | undefined {
  if (!isJsonObject(value) || !Array.isArray(value.coordinates)) {
    return undefined;
  }
  if (value.type === 'Polygon') {
    return { type: 'Polygon', coordinates: value.coordinates as number[][][] };
  }
  if (value.type === 'MultiPolygon') {
    return {
      type: 'MultiPolygon',
      coordinates: value.coordinates as number[][][][]
    };
  }
  return undefined;
}

function bboxOf(value: unknown): BBox | undefined {
  if (!Array.isArray(value)) {
    return undefined;
  }
  if (value.length === 4) {
    return makeBBox(value[0], value[1], value[2], value[3]);
  }
  if (value.length === 6) {
    return makeBBox(value[0], value[1], value[3], value[4]);
  }
  return undefined;
}

/** Extension prefixes whose properties are facets, with the prefix dropped. */
const FACET_PREFIXES = ['cmip6:', 'cordex:'];
/** Extension properties that are not facets (they fill variables and identifiers). */
const NOT_FACETS = new Set([
  'pid',
  'tracking_id',
  'variable_long_name',
  'variable_units',
  'variable_cf_standard_name',
  'further_info_url',
  'citation_url'
]);
/** STAC common metadata usable as facets. */
const COMMON_FACETS = ['platform', 'constellation', 'mission', 'instruments'];

function variablesOf(properties: JsonObject): RecordVariable[] {
  const out: RecordVariable[] = [];
  const cmip6Name = asString(properties['cmip6:variable_id']);
  if (cmip6Name !== undefined) {
    const variable: RecordVariable = { name: cmip6Name };
    const longName = asString(properties['cmip6:variable_long_name']);
    const units = asString(properties['cmip6:variable_units']);
    const standardName = asString(
      properties['cmip6:variable_cf_standard_name']
    );
    if (longName !== undefined) {
      variable.long_name = longName;
    }
    if (units !== undefined) {
      variable.units = units;
    }
    if (standardName !== undefined) {
      variable.standard_name = standardName;
    }
    out.push(variable);
  }
  const cube = properties['cube:variables'];
  if (isJsonObject(cube)) {
    for (const [name, spec] of Object.entries(cube)) {
      if (out.some(variable => variable.name === name)) {
        continue;
      }
      const variable: RecordVariable = { name };
      if (isJsonObject(spec)) {
        const description = asString(spec.description);
        const unit = asString(spec.unit);
        if (description !== undefined) {
          variable.long_name = description;
        }
        if (unit !== undefined) {
          variable.units = unit;
        }
      }
      out.push(variable);
    }
  }
  return out;
}

function licenceOf(
  doc: JsonObject,
  links: StacLink[]
): DatasetRecord['licence'] {
  const name = asString(doc.license);
  const link = links.find(item => item.rel === 'license');
  if (name === undefined && link === undefined) {
    return undefined;
  }
  const licence: NonNullable<DatasetRecord['licence']> = {
    text: name ?? link?.title ?? 'see link'
  };
  if (link !== undefined) {
    licence.url = link.href;
  }
  return licence;
}

/**
 * Fill the fields shared by items and collections: facets from extension properties,
 * variables, identifiers, licence, citation, dates.
 */
function fillCommon(
  record: DatasetRecord,
  properties: JsonObject,
  doc: JsonObject,
  links: StacLink[]
): void {
  for (const [key, value] of Object.entries(properties)) {
    const prefix = FACET_PREFIXES.find(item => key.startsWith(item));
    if (prefix !== undefined) {
      const name = key.slice(prefix.length);
      if (!NOT_FACETS.has(name)) {
        addFacet(record.facets, name, value);
      }
    } else if (COMMON_FACETS.includes(key)) {
      addFacet(record.facets, key, value);
    }
  }
  record.variables = variablesOf(properties);

  const description =
    asString(properties.description) ?? asString(doc.description);
  if (description !== undefined) {
    record.description = description;
  }
  const version = asString(properties.version) ?? asString(doc.version);
  if (version !== undefined) {
    record.version = version;
  }
  const pid = normalisePid(asString(properties['cmip6:pid']));
  if (pid !== undefined) {
    record.identifiers.pid = pid;
  }
  const doi = normaliseDoi(
    asString(properties['sci:doi']) ?? asString(doc['sci:doi'])
  );
  if (doi !== undefined) {
    record.identifiers.doi = doi;
  }
  const licence = licenceOf(
    isJsonObject(doc.properties) ? { ...doc, ...doc.properties } : doc,
    links
  );
  if (licence !== undefined) {
    record.licence = licence;
  }
  setDefined(record, 'dates', {
    created: asString(properties.created),
    modified: asString(properties.updated)
  });
}

function fillCitation(
  record: DatasetRecord,
  properties: JsonObject,
  doc: JsonObject,
  links: StacLink[]
): void {
  const citeAs = links.find(link => link.rel === 'cite-as')?.href;
  const resolver = identifierUrl(record.identifiers);
  const written =
    asString(properties['sci:citation']) ?? asString(doc['sci:citation']);
  const isCmip6 = Object.keys(properties).some(key => key.startsWith('cmip6:'));
  let textValue = written;
  if (textValue === undefined && (isCmip6 || resolver !== undefined)) {
    const creators = isCmip6
      ? stringList(properties['cmip6:institution_id'])
      : [];
    textValue = formatCitation({
      creators,
      title: asString(properties.base_id) ?? record.title,
      version: record.version,
      publisher: isCmip6 ? 'Earth System Grid Federation' : undefined,
      url: resolver
    });
  }
  if (textValue === undefined) {
    return;
  }
  record.citation = { text: textValue };
  const url = citeAs ?? resolver;
  if (url !== undefined) {
    record.citation.url = url;
  }
}

/**
 * The record of a STAC Item or Collection, with its id (where it was read when it has
 * none) and its title (the id when it has none), and the document's links.
 */
function stacRecord(
  doc: JsonObject,
  title: unknown,
  documentUrl: string | undefined,
  catalogId: string
): { record: DatasetRecord; links: StacLink[] } {
  const id = asString(doc.id) ?? documentUrl ?? 'untitled';
  return {
    record: emptyRecord(id, asString(title) ?? id, catalogId, 'stac'),
    links: stacLinks(doc, documentUrl)
  };
}

/**
 * A record from a STAC Item.
 *
 * @param documentUrl Where the item was read, for relative asset hrefs.
 */
export function stacItemToRecord(
  item: JsonObject,
  documentUrl: string | undefined,
  catalogId: string
): DatasetRecord {
  const properties = isJsonObject(item.properties) ? item.properties : {};
  const { record, links } = stacRecord(
    item,
    properties.title,
    documentUrl,
    catalogId
  );
  const base = links.find(link => link.rel === 'self')?.href ?? documentUrl;
  record.access = assetsOf(item, documentUrl ?? base);

  addFacet(record.facets, 'collection', item.collection);
  fillCommon(record, properties, item, links);

  setDefined(record, 'spatial', {
    bbox: bboxOf(item.bbox),
    geometry: geometryOf(item.geometry)
  });
  setDefined(record, 'temporal', {
    start: asString(properties.start_datetime) ?? asString(properties.datetime),
    end: asString(properties.end_datetime) ?? asString(properties.datetime)
  });

  const dataAssets = record.access.filter(access =>
    access.roles?.includes('data')
  );
  const sizes = dataAssets
    .map(access => access.size)
    .filter((size): size is number => size !== undefined);
  const size =
    asNumber(properties.size) ??
    (sizes.length > 0 ? sizes.reduce((a, b) => a + b, 0) : undefined);
  if (size !== undefined) {
    record.size = size;
  }
  const withChecksum = dataAssets.filter(
    access => access.checksum !== undefined
  );
  const checksums = new Set(
    withChecksum.map(
      access => `${access.checksum?.type}:${access.checksum?.value}`
    )
  );
  if (checksums.size === 1 && withChecksum[0].checksum !== undefined) {
    record.checksum = withChecksum[0].checksum;
  }

  const trackingIds: string[] = stringList(properties['cmip6:tracking_id']);
  if (isJsonObject(item.assets)) {
    for (const asset of Object.values(item.assets)) {
      if (isJsonObject(asset)) {
        for (const trackingId of stringList(asset['cmip6:tracking_id'])) {
          if (!trackingIds.includes(trackingId)) {
            trackingIds.push(trackingId);
          }
        }
      }
    }
  }
  if (trackingIds.length > 0) {
    record.identifiers.tracking_ids = trackingIds;
  }
  if (Object.keys(properties).some(key => key.startsWith('cmip6:'))) {
    // ESGF's STAC items carry the dataset's instance id (with its version) as item id.
    record.identifiers.instance_id = record.id;
    const masterId = asString(properties.base_id);
    if (masterId !== undefined) {
      record.identifiers.master_id = masterId;
    }
  }
  fillCitation(record, properties, item, links);
  return record;
}

/**
 * A record from a STAC Collection or Catalog. Its bbox covers all of the extent's
 * boxes: the spec makes the first box the overall one, but some servers list only
 * sub-areas.
 *
 * @param documentUrl Where the collection was read, for relative hrefs.
 */
export function stacCollectionToRecord(
  collection: JsonObject,
  documentUrl: string | undefined,
  catalogId: string
): DatasetRecord {
  const { record, links } = stacRecord(
    collection,
    collection.title,
    documentUrl,
    catalogId
  );
  record.access = assetsOf(collection, documentUrl);
  const items = links.find(link => link.rel === 'items');
  if (items !== undefined) {
    record.access.push({
      url: items.href,
      protocol: 'stac',
      media_type: items.type,
      description: 'STAC items'
    });
  } else if (documentUrl !== undefined && safeUrl(documentUrl) !== undefined) {
    record.access.push({
      url: documentUrl,
      protocol: 'stac',
      media_type: 'application/json',
      description: 'STAC'
    });
  }

  addFacet(record.facets, 'keywords', collection.keywords);
  if (Array.isArray(collection.providers)) {
    for (const provider of collection.providers) {
      if (isJsonObject(provider)) {
        addFacet(record.facets, 'providers', provider.name);
      }
    }
  }
  const summaries = isJsonObject(collection.summaries)
    ? collection.summaries
    : {};
  for (const [key, value] of Object.entries(summaries)) {
    if (
      Array.isArray(value) &&
      value.length > 0 &&
      value.every(item => typeof item === 'string')
    ) {
      const prefix = FACET_PREFIXES.find(item => key.startsWith(item));
      addFacet(record.facets, prefix ? key.slice(prefix.length) : key, value);
    }
  }
  fillCommon(record, {}, collection, links);
  record.variables = variablesOf(collection);

  const extent = isJsonObject(collection.extent) ? collection.extent : {};
  const spatial = isJsonObject(extent.spatial) ? extent.spatial : {};
  const boxes = Array.isArray(spatial.bbox)
    ? spatial.bbox.map(bboxOf).filter((box): box is BBox => box !== undefined)
    : [];
  const bbox = unionBBox(boxes);
  if (bbox !== undefined) {
    record.spatial = { bbox };
  }
  const temporal = isJsonObject(extent.temporal) ? extent.temporal : {};
  const interval =
    Array.isArray(temporal.interval) && Array.isArray(temporal.interval[0])
      ? temporal.interval[0]
      : [];
  setDefined(record, 'temporal', {
    start: asString(interval[0]),
    end: asString(interval[1])
  });
  fillCitation(record, {}, collection, links);
  return record;
}
