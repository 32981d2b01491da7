/**
 * STAC APIs and static catalogues: landing pages and conformance, item search requests
 * (GET and POST, CQL2 filters when the server conforms), ItemCollection and
 * `/collections` pages with their `next` links, and a lazy walk of static catalogues.
 * How each document becomes a `DatasetRecord` is in `stac-record.ts`.
 *
 * STAC specification: https://github.com/radiantearth/stac-spec ; STAC API:
 * https://github.com/radiantearth/stac-api-spec
 */
import {
  BBox,
  CatalogParseError,
  DatasetRecord,
  JsonObject,
  asNumber,
  asString,
  isJsonObject,
  parseJsonObject,
  stringList
} from '../record';
import {
  type HttpMethod,
  type StacLink,
  stacCollectionToRecord,
  stacItemToRecord,
  stacLinks,
  stacType
} from './stac-record';

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
