/**
 * STAC: API landing pages and conformance, collections, item search requests (GET and
 * POST, CQL2 filters when the server conforms), ItemCollection pages with `next`
 * links, and a lazy walk of static catalogues.
 *
 * STAC specification: https://github.com/radiantearth/stac-spec ; STAC API:
 * https://github.com/radiantearth/stac-api-spec
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

/**
 * What a STAC API declares it supports, from its `conformsTo` classes.
 */
export interface StacConformance {
  core: boolean;
  collections: boolean;
  /** OGC API Features (`/collections/{id}/items`). */
  features: boolean;
  itemSearch: boolean;
  /** The Filter extension of item search (CQL2). */
  filter: boolean;
  cql2Text: boolean;
  cql2Json: boolean;
  sort: boolean;
  fields: boolean;
  query: boolean;
}

export interface StacLandingPage {
  id: string;
  title: string;
  description?: string;
  stacVersion?: string;
  conformsTo: string[];
  conformance: StacConformance;
  /** The item search endpoint, when the API has one. */
  searchUrl?: string;
  /** Methods the search link declares (GET and POST when unsaid). */
  searchMethods: HttpMethod[];
  collectionsUrl?: string;
  conformanceUrl?: string;
  /** `child` links: catalogues and collections reachable by browsing. */
  children: StacLink[];
}

/**
 * Which conformance classes a `conformsTo` list declares. Version segments differ
 * between servers (`v1.0.0-beta.1`, `v1.0.0`), so classes are matched by their tail.
 */
export function stacConformance(conformsTo: string[]): StacConformance {
  const has = (pattern: RegExp): boolean =>
    conformsTo.some(uri => pattern.test(uri));
  return {
    core: has(/api\.stacspec\.org\/[^/]+\/core$/),
    collections:
      has(/api\.stacspec\.org\/[^/]+\/collections$/) ||
      has(/ogcapi-features-1\/[^/]+\/conf\/core$/),
    features:
      has(/ogcapi-features-1\/[^/]+\/conf\/core$/) ||
      has(/api\.stacspec\.org\/[^/]+\/ogcapi-features$/),
    itemSearch: has(/api\.stacspec\.org\/[^/]+\/item-search$/),
    filter:
      has(/item-search#filter$/) ||
      has(/ogcapi-features-3\/[^/]+\/conf\/(features-)?filter$/),
    cql2Text: has(/cql2?-text$/),
    cql2Json: has(/cql2?-json$/),
    sort: has(/item-search#sort$/),
    fields: has(/item-search#fields$/),
    query: has(/item-search#query$/)
  };
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

/**
 * Read a STAC API landing page (or a static catalogue's root).
 *
 * @param url The page's URL, against which relative links are resolved.
 * @throws CatalogParseError when the body is not JSON or not a STAC catalogue.
 */
export function parseStacLandingPage(
  body: unknown,
  url: string
): StacLandingPage {
  const source = `STAC landing page ${url}`;
  const doc = parseJsonObject(body, source);
  if (
    !Array.isArray(doc.links) ||
    (doc.stac_version === undefined && doc.conformsTo === undefined)
  ) {
    throw new CatalogParseError(
      source,
      'not a STAC catalogue (no "links" with "stac_version" or "conformsTo")'
    );
  }
  const links = stacLinks(doc, url);
  const conformsTo = stringList(doc.conformsTo);
  const id = asString(doc.id) ?? url;
  const page: StacLandingPage = {
    id,
    title: asString(doc.title) ?? id,
    conformsTo,
    conformance: stacConformance(conformsTo),
    searchMethods: ['GET', 'POST'],
    children: links.filter(link => link.rel === 'child')
  };
  const description = asString(doc.description);
  if (description !== undefined) {
    page.description = description;
  }
  const version = asString(doc.stac_version);
  if (version !== undefined) {
    page.stacVersion = version;
  }
  const search = links.filter(link => link.rel === 'search');
  if (search.length > 0) {
    page.searchUrl = search[0].href;
    const methods = search
      .map(link => link.method)
      .filter((method): method is HttpMethod => method !== undefined);
    if (methods.length > 0) {
      page.searchMethods = Array.from(new Set(methods));
    }
  }
  const collections = links.find(link => link.rel === 'data');
  if (collections !== undefined) {
    page.collectionsUrl = collections.href;
  }
  const conformance = links.find(link => link.rel === 'conformance');
  if (conformance !== undefined) {
    page.conformanceUrl = conformance.href;
  }
  return page;
}

/**
 * Read a `/conformance` answer (`{"conformsTo": [...]}`).
 */
export function parseStacConformance(body: unknown): {
  conformsTo: string[];
  conformance: StacConformance;
} {
  const source = 'STAC conformance declaration';
  const doc = parseJsonObject(body, source);
  if (!Array.isArray(doc.conformsTo)) {
    throw new CatalogParseError(source, 'no "conformsTo" list');
  }
  const conformsTo = stringList(doc.conformsTo);
  return { conformsTo, conformance: stacConformance(conformsTo) };
}

/**
 * An item search.
 */
export interface StacSearchParams {
  bbox?: BBox;
  /** An RFC 3339 instant or interval, or bounds of an interval (open when absent). */
  datetime?: string | { start?: string; end?: string };
  collections?: string[];
  ids?: string[];
  limit?: number;
  /** A CQL2 filter: text (`cql2-text`) or a JSON object (`cql2-json`). */
  filter?: string | JsonObject;
}

/**
 * An HTTP request to send (through the server's proxy) to a STAC API.
 */
export interface StacRequest {
  method: HttpMethod;
  url: string;
  /** The JSON body of a POST. */
  body?: JsonObject;
  headers?: Record<string, string>;
}

function datetimeParam(
  value: StacSearchParams['datetime']
): string | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (typeof value === 'string') {
    return value.trim() === '' ? undefined : value.trim();
  }
  if (value.start === undefined && value.end === undefined) {
    return undefined;
  }
  return `${value.start ?? '..'}/${value.end ?? '..'}`;
}

/**
 * The request for an item search.
 *
 * @param options.method GET puts the parameters in the query string, POST in a JSON
 *   body (which long id lists and CQL2 JSON need).
 * @param options.conformance What the server declares; a filter is sent only to a
 *   server that conforms to the Filter extension and the filter's language.
 * @throws RangeError when a filter is asked of a server that does not support it.
 */
export function buildStacSearchRequest(
  searchUrl: string,
  params: StacSearchParams,
  options: { method?: HttpMethod; conformance?: StacConformance } = {}
): StacRequest {
  const method = options.method ?? 'GET';
  let filterLang: 'cql2-text' | 'cql2-json' | undefined;
  if (params.filter !== undefined) {
    filterLang = typeof params.filter === 'string' ? 'cql2-text' : 'cql2-json';
    const conformance = options.conformance;
    if (conformance === undefined || !conformance.filter) {
      throw new RangeError(
        'This STAC API does not declare the Filter extension: CQL2 filters cannot be sent'
      );
    }
    const languageOk =
      filterLang === 'cql2-text' ? conformance.cql2Text : conformance.cql2Json;
    if (!languageOk) {
      throw new RangeError(
        `This STAC API does not declare ${filterLang} filters`
      );
    }
  }
  const datetime = datetimeParam(params.datetime);
  if (method === 'POST') {
    const body: JsonObject = {};
    if (params.bbox !== undefined) {
      body.bbox = [...params.bbox];
    }
    if (datetime !== undefined) {
      body.datetime = datetime;
    }
    if (params.collections !== undefined && params.collections.length > 0) {
      body.collections = [...params.collections];
    }
    if (params.ids !== undefined && params.ids.length > 0) {
      body.ids = [...params.ids];
    }
    if (params.limit !== undefined) {
      body.limit = params.limit;
    }
    if (params.filter !== undefined && filterLang !== undefined) {
      body.filter = params.filter;
      body['filter-lang'] = filterLang;
    }
    return {
      method,
      url: searchUrl,
      body,
      headers: { 'Content-Type': 'application/json' }
    };
  }
  const query = new URLSearchParams();
  if (params.bbox !== undefined) {
    query.set('bbox', params.bbox.join(','));
  }
  if (datetime !== undefined) {
    query.set('datetime', datetime);
  }
  if (params.collections !== undefined && params.collections.length > 0) {
    query.set('collections', params.collections.join(','));
  }
  if (params.ids !== undefined && params.ids.length > 0) {
    query.set('ids', params.ids.join(','));
  }
  if (params.limit !== undefined) {
    query.set('limit', String(params.limit));
  }
  if (params.filter !== undefined && filterLang !== undefined) {
    query.set(
      'filter',
      typeof params.filter === 'string'
        ? params.filter
        : JSON.stringify(params.filter)
    );
    query.set('filter-lang', filterLang);
  }
  const queryText = query.toString();
  return {
    method,
    url:
      queryText === ''
        ? searchUrl
        : `${searchUrl}${searchUrl.includes('?') ? '&' : '?'}${queryText}`
  };
}

/**
 * The request that fetches the page a `next` link points to. A POST link's body
 * replaces the previous body, or is merged into it when the link says `merge: true`.
 */
export function nextStacRequest(
  previous: StacRequest,
  next: StacLink
): StacRequest {
  const method = next.method ?? 'GET';
  if (method === 'GET') {
    return next.headers
      ? { method, url: next.href, headers: { ...next.headers } }
      : { method, url: next.href };
  }
  const body = next.merge
    ? { ...(previous.body ?? {}), ...(next.body ?? {}) }
    : (next.body ?? previous.body ?? {});
  return {
    method,
    url: next.href,
    body,
    headers: { ...(previous.headers ?? {}), ...(next.headers ?? {}) }
  };
}

/**
 * One page of items.
 */
export interface StacItemPage {
  records: DatasetRecord[];
  /** Matching items in all pages, when the server says (`numberMatched` or `context.matched`). */
  matched?: number;
  returned: number;
  next?: StacLink;
}

/**
 * Read an ItemCollection (an item search or `/collections/{id}/items` page).
 *
 * @param url The page's URL, against which relative links are resolved.
 */
export function parseStacItemCollection(
  body: unknown,
  url: string,
  catalogId: string
): StacItemPage {
  const source = `STAC item page ${url}`;
  const doc = parseJsonObject(body, source);
  if (!Array.isArray(doc.features)) {
    throw new CatalogParseError(
      source,
      'not a STAC ItemCollection (no "features" list)'
    );
  }
  const records = doc.features.map((feature, index) => {
    if (!isJsonObject(feature)) {
      throw new CatalogParseError(source, `feature ${index} is not an object`);
    }
    return stacItemToRecord(feature, url, catalogId);
  });
  const context = isJsonObject(doc.context) ? doc.context : {};
  const page: StacItemPage = {
    records,
    returned:
      asNumber(doc.numberReturned) ??
      asNumber(context.returned) ??
      records.length
  };
  const matched = asNumber(doc.numberMatched) ?? asNumber(context.matched);
  if (matched !== undefined) {
    page.matched = matched;
  }
  const next = stacLinks(doc, url).find(link => link.rel === 'next');
  if (next !== undefined) {
    page.next = next;
  }
  return page;
}

/**
 * Read a `/collections` answer.
 */
export function parseStacCollections(
  body: unknown,
  url: string,
  catalogId: string
): { records: DatasetRecord[]; next?: StacLink } {
  const source = `STAC collections ${url}`;
  const doc = parseJsonObject(body, source);
  if (!Array.isArray(doc.collections)) {
    throw new CatalogParseError(source, 'no "collections" list');
  }
  const records = doc.collections.map((collection, index) => {
    if (!isJsonObject(collection)) {
      throw new CatalogParseError(
        source,
        `collection ${index} is not an object`
      );
    }
    const self = stacLinks(collection, url).find(
      link => link.rel === 'self'
    )?.href;
    return stacCollectionToRecord(collection, self ?? url, catalogId);
  });
  const next = stacLinks(doc, url).find(link => link.rel === 'next');
  return next === undefined ? { records } : { records, next };
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
  const created = asString(properties.created);
  const updated = asString(properties.updated);
  if (created !== undefined || updated !== undefined) {
    record.dates = {};
    if (created !== undefined) {
      record.dates.created = created;
    }
    if (updated !== undefined) {
      record.dates.modified = updated;
    }
  }
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
  const id = asString(item.id) ?? documentUrl ?? 'untitled';
  const record = emptyRecord(
    id,
    asString(properties.title) ?? id,
    catalogId,
    'stac'
  );
  const links = stacLinks(item, documentUrl);
  const base = links.find(link => link.rel === 'self')?.href ?? documentUrl;
  record.access = assetsOf(item, documentUrl ?? base);

  addFacet(record.facets, 'collection', item.collection);
  fillCommon(record, properties, item, links);

  const bbox = bboxOf(item.bbox);
  const geometry = geometryOf(item.geometry);
  if (bbox !== undefined || geometry !== undefined) {
    record.spatial = {};
    if (bbox !== undefined) {
      record.spatial.bbox = bbox;
    }
    if (geometry !== undefined) {
      record.spatial.geometry = geometry;
    }
  }
  const start =
    asString(properties.start_datetime) ?? asString(properties.datetime);
  const end =
    asString(properties.end_datetime) ?? asString(properties.datetime);
  if (start !== undefined || end !== undefined) {
    record.temporal = {};
    if (start !== undefined) {
      record.temporal.start = start;
    }
    if (end !== undefined) {
      record.temporal.end = end;
    }
  }

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
    record.identifiers.instance_id = id;
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
  const id = asString(collection.id) ?? documentUrl ?? 'untitled';
  const record = emptyRecord(
    id,
    asString(collection.title) ?? id,
    catalogId,
    'stac'
  );
  const links = stacLinks(collection, documentUrl);
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
  const start = asString(interval[0]);
  const end = asString(interval[1]);
  if (start !== undefined || end !== undefined) {
    record.temporal = {};
    if (start !== undefined) {
      record.temporal.start = start;
    }
    if (end !== undefined) {
      record.temporal.end = end;
    }
  }
  fillCitation(record, {}, collection, links);
  return record;
}

/**
 * Fetches and parses a JSON document; the walker's only side effect.
 */
export type FetchJson = (url: string, signal?: AbortSignal) => Promise<unknown>;

/**
 * One document met while walking a static catalogue, or one that could not be read.
 */
export type StacWalkEntry =
  | {
      kind: 'catalog' | 'collection' | 'item';
      url: string;
      /** 0 for the root. */
      depth: number;
      parentUrl?: string;
      record: DatasetRecord;
    }
  | {
      kind: 'error';
      url: string;
      depth: number;
      parentUrl?: string;
      error: Error;
    };

export interface StacWalkOptions {
  catalogId: string;
  /** Documents deeper than this are not fetched (the root is depth 0). Default 8. */
  maxDepth?: number;
  signal?: AbortSignal;
}

function withoutFragment(url: string): string {
  const index = url.indexOf('#');
  return index === -1 ? url : url.slice(0, index);
}

/**
 * Walk a static STAC catalogue depth first, fetching each child catalogue, collection
 * and item only when the consumer asks for the next entry. Relative hrefs are resolved
 * against the URL of the document that holds them; a document is fetched at most once
 * (catalogues that link back up or to each other do not loop). A child that cannot be
 * fetched or read is reported as an `error` entry and the walk goes on.
 *
 * @throws CatalogParseError when the root itself is not a STAC catalogue.
 */
export async function* walkStaticCatalog(
  fetchJson: FetchJson,
  rootUrl: string,
  options: StacWalkOptions
): AsyncGenerator<StacWalkEntry> {
  const maxDepth = options.maxDepth ?? 8;
  const visited = new Set<string>();

  async function* visit(
    url: string,
    depth: number,
    parentUrl: string | undefined
  ): AsyncGenerator<StacWalkEntry> {
    options.signal?.throwIfAborted();
    visited.add(withoutFragment(url));
    let doc: JsonObject;
    let type: 'catalog' | 'collection' | 'item' | undefined;
    try {
      doc = parseJsonObject(
        await fetchJson(url, options.signal),
        `STAC document ${url}`
      );
      type = stacType(doc);
      if (type === undefined) {
        throw new CatalogParseError(
          `STAC document ${url}`,
          'not a STAC Catalog, Collection or Item'
        );
      }
    } catch (error) {
      if (depth === 0 || options.signal?.aborted) {
        throw error;
      }
      const reason = error instanceof Error ? error : new Error(String(error));
      yield parentUrl === undefined
        ? { kind: 'error', url, depth, error: reason }
        : { kind: 'error', url, depth, parentUrl, error: reason };
      return;
    }
    const record =
      type === 'item'
        ? stacItemToRecord(doc, url, options.catalogId)
        : stacCollectionToRecord(doc, url, options.catalogId);
    yield parentUrl === undefined
      ? { kind: type, url, depth, record }
      : { kind: type, url, depth, parentUrl, record };
    if (type === 'item' || depth >= maxDepth) {
      return;
    }
    for (const link of stacLinks(doc, url)) {
      if (link.rel !== 'child' && link.rel !== 'item') {
        continue;
      }
      if (visited.has(withoutFragment(link.href))) {
        continue;
      }
      yield* visit(link.href, depth + 1, url);
    }
  }

  yield* visit(rootUrl, 0, undefined);
}
