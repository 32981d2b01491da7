/**
 * One search interface over the remote catalogue protocols: ESGF esg-search, STAC APIs,
 * static STAC catalogues, THREDDS catalogues and CSW. Each source says which parts of
 * a query its server applies (the browser applies the rest to the records it holds,
 * see `query.ts`), and answers pages of `DatasetRecord`s with a cursor to the next.
 * Requests go through a `Fetcher` (the server's proxy), so this holds no DOM and no
 * transport.
 */
import {
  buildCswGetRecordsRequest,
  parseCswGetRecordsResponse
} from '../adapters/csw';
import {
  buildEsgfSearchUrl,
  buildEsgfWgetUrl,
  parseEsgfSearchResponse
} from '../adapters/esgf';
import {
  buildStacSearchRequest,
  nextStacRequest,
  parseStacCollections,
  parseStacItemCollection,
  parseStacLandingPage,
  type StacLandingPage,
  type StacRequest,
  walkStaticCatalog
} from '../adapters/stac';
import {
  parseThreddsCatalog,
  threddsCatalogRefs,
  threddsDatasets
} from '../adapters/thredds';
import type { CatalogKind } from '@espri-vre/core';
import type { DatasetRecord, FacetCounts } from '../record';
import { parseAnswer, type Fetcher, type RemoteRequest } from './fetcher';
import type { RemoteQuery, ServerParts } from './query';

/** The protocols the remote browser tells apart (a `stac` catalogue is an API or static). */
export type SourceKind =
  'esgf' | 'stac-api' | 'stac-static' | 'thredds' | 'csw';

/** One page of results. */
export interface SourcePage {
  records: DatasetRecord[];
  /** Matching records on the server, when it says. */
  total: number | null;
  /** Facet counts the server computed over every match, when it does. */
  facets: FacetCounts | null;
  /** The next page, or null after the last. */
  next: Cursor | null;
  /** Documents that could not be read while walking (the walk went on). */
  problems: string[];
}

/** Where the next page starts: opaque to the view. */
export type Cursor = { readonly kind: SourceKind; readonly state: unknown };

export interface CatalogSource {
  readonly kind: SourceKind;
  /** The parts of a query the server applies. */
  readonly server: ServerParts;
  /** Whether the browser can narrow by bbox and by time at all. */
  readonly spatial: boolean;
  readonly temporal: boolean;
  /** Facets whose values exist before any search (STAC collections). */
  readonly knownFacets: Record<string, string[]>;
  /** The entry point, for the code that opens a record. */
  readonly url: string;
  search(query: RemoteQuery, signal?: AbortSignal): Promise<SourcePage>;
  more(cursor: Cursor, signal?: AbortSignal): Promise<SourcePage>;
  /** The files of a dataset (ESGF), or null when the source has no such level. */
  files?(record: DatasetRecord, signal?: AbortSignal): Promise<DatasetRecord[]>;
  /** The URL of a record's own document (static STAC items). */
  documentUrl?(record: DatasetRecord): string | undefined;
  /** A download script for datasets (ESGF wget), as text. */
  wgetScript?(records: DatasetRecord[], signal?: AbortSignal): Promise<string>;
}

/** Results asked per page. */
export const PAGE_SIZE = 50;

/** The facets an ESGF index is asked counts for (CMIP6, then CORDEX). */
export const ESGF_FACETS = [
  'project',
  'activity_id',
  'institution_id',
  'source_id',
  'experiment_id',
  'member_id',
  'table_id',
  'variable_id',
  'grid_label',
  'frequency',
  'realm',
  'nominal_resolution',
  'data_node',
  'domain',
  'driving_model',
  'rcm_name'
];

async function getText(
  fetcher: Fetcher,
  request: RemoteRequest,
  signal?: AbortSignal
) {
  return fetcher(request, signal);
}

/** The esg-search root of a configured URL (`.../esg-search` or `.../esg-search/search`). */
export function esgfBase(url: string): string {
  return url.replace(/[?#].*$/, '').replace(/\/+(search)?\/*$/, '');
}

function esgfSource(
  catalogId: string,
  url: string,
  fetcher: Fetcher,
  options: { latest: boolean }
): CatalogSource {
  const base = esgfBase(url);
  const page = async (
    query: RemoteQuery,
    offset: number,
    signal?: AbortSignal
  ): Promise<SourcePage> => {
    const constraints: Record<string, string[]> = {};
    for (const [name, values] of Object.entries(query.facets)) {
      if (values.length > 0) {
        constraints[name] = [...values];
      }
    }
    const searchUrl = buildEsgfSearchUrl(base, {
      type: 'Dataset',
      query: query.text,
      constraints,
      latest: options.latest ? true : undefined,
      offset,
      limit: PAGE_SIZE,
      facets: ESGF_FACETS,
      bbox: query.bbox,
      start: query.start,
      end: query.end
    });
    const answer = await getText(
      fetcher,
      { method: 'GET', url: searchUrl },
      signal
    );
    const result = parseAnswer(answer, text =>
      parseEsgfSearchResponse(text, catalogId)
    );
    const nextOffset = result.offset + result.records.length;
    return {
      records: result.records,
      total: result.total,
      facets: result.facets,
      next:
        result.records.length > 0 && nextOffset < result.total
          ? { kind: 'esgf', state: { query, offset: nextOffset } }
          : null,
      problems: []
    };
  };
  return {
    kind: 'esgf',
    server: { text: true, facets: true, bbox: true, time: true },
    spatial: true,
    temporal: true,
    knownFacets: {},
    url: base,
    search: (query, signal) => page(query, 0, signal),
    more: (cursor, signal) => {
      const state = cursor.state as { query: RemoteQuery; offset: number };
      return page(state.query, state.offset, signal);
    },
    files: async (record, signal) => {
      const filesUrl = buildEsgfSearchUrl(base, {
        type: 'File',
        datasetId: record.id,
        limit: 1000,
        distrib: false
      });
      const answer = await getText(
        fetcher,
        { method: 'GET', url: filesUrl },
        signal
      );
      return parseAnswer(answer, text =>
        parseEsgfSearchResponse(text, catalogId)
      ).records;
    },
    wgetScript: async (records, signal) => {
      const wgetUrl = buildEsgfWgetUrl(
        base,
        records.map(record => record.id)
      );
      const answer = await getText(
        fetcher,
        { method: 'GET', url: wgetUrl },
        signal
      );
      if (answer.truncated) {
        throw new Error(
          `The wget script of ${wgetUrl} was cut at the proxy's size limit.`
        );
      }
      if (!answer.text.startsWith('#!')) {
        throw new Error(
          `${wgetUrl} did not answer a shell script (it begins "${answer.text.slice(0, 60)}").`
        );
      }
      return answer.text;
    }
  };
}

function stacRequestOf(request: StacRequest): RemoteRequest {
  const out: RemoteRequest = { method: request.method, url: request.url };
  if (request.body !== undefined) {
    out.body = JSON.stringify(request.body);
  }
  if (request.headers !== undefined) {
    out.headers = request.headers;
  }
  return out;
}

function hasFreeText(landing: StacLandingPage): boolean {
  return landing.conformsTo.some(uri => /#free-text$|free-text$/.test(uri));
}

async function stacApiSource(
  catalogId: string,
  landing: StacLandingPage,
  fetcher: Fetcher,
  signal?: AbortSignal
): Promise<CatalogSource> {
  const searchUrl = landing.searchUrl as string;
  const collections: string[] = [];
  if (landing.collectionsUrl !== undefined) {
    try {
      const answer = await fetcher(
        { method: 'GET', url: landing.collectionsUrl },
        signal
      );
      const parsed = parseAnswer(answer, (text, url) =>
        parseStacCollections(text, url, catalogId)
      );
      collections.push(...parsed.records.map(record => record.id));
    } catch (error) {
      if (signal?.aborted) {
        throw error;
      }
      // The search works without the list: the collection facet then shows the
      // collections of the items found.
    }
  }
  const freeText = hasFreeText(landing);
  const method = landing.searchMethods.includes('POST') ? 'POST' : 'GET';
  const page = async (
    request: StacRequest,
    pageSignal?: AbortSignal
  ): Promise<SourcePage> => {
    const answer = await fetcher(stacRequestOf(request), pageSignal);
    const parsed = parseAnswer(answer, (text, url) =>
      parseStacItemCollection(text, url, catalogId)
    );
    return {
      records: parsed.records,
      total: parsed.matched ?? null,
      facets: null,
      next:
        parsed.next !== undefined && parsed.records.length > 0
          ? {
              kind: 'stac-api',
              state: nextStacRequest(request, parsed.next)
            }
          : null,
      problems: []
    };
  };
  return {
    kind: 'stac-api',
    // Collections are sent to the server; other facets are the items' properties,
    // narrowed in the browser.
    server: { text: freeText, facets: false, bbox: true, time: true },
    spatial: true,
    temporal: true,
    knownFacets: collections.length > 0 ? { collection: collections } : {},
    url: landing.searchUrl?.replace(/\/search\/?$/, '') ?? searchUrl,
    search: (query, searchSignal) => {
      const request = buildStacSearchRequest(
        searchUrl,
        {
          bbox: query.bbox,
          datetime:
            query.start !== undefined || query.end !== undefined
              ? {
                  start: query.start && isoInstant(query.start, false),
                  end: query.end && isoInstant(query.end, true)
                }
              : undefined,
          collections: query.facets.collection
            ? [...query.facets.collection]
            : undefined,
          limit: PAGE_SIZE
        },
        { method }
      );
      if (freeText && query.text.trim() !== '') {
        if (request.method === 'POST') {
          request.body = { ...(request.body ?? {}), q: query.text.trim() };
        } else {
          request.url += `${request.url.includes('?') ? '&' : '?'}q=${encodeURIComponent(query.text.trim())}`;
        }
      }
      return page(request, searchSignal);
    },
    more: (cursor, moreSignal) => page(cursor.state as StacRequest, moreSignal)
  };
}

/** A date as an RFC 3339 instant at the start or the end of that day. */
export function isoInstant(date: string, end: boolean): string {
  if (/T/.test(date)) {
    return date;
  }
  return `${date}T${end ? '23:59:59' : '00:00:00'}Z`;
}

/**
 * An item states its licence and citation in its collection (STAC's `license` is a
 * collection field): an item that has none takes its collection's.
 */
export function inherit(
  item: DatasetRecord,
  parent: DatasetRecord | undefined
): void {
  if (parent === undefined) {
    return;
  }
  if (item.licence === undefined && parent.licence !== undefined) {
    item.licence = parent.licence;
  }
  if (item.citation === undefined && parent.citation !== undefined) {
    item.citation = parent.citation;
  }
  if (
    item.identifiers.doi === undefined &&
    parent.identifiers.doi !== undefined
  ) {
    item.identifiers.doi = parent.identifiers.doi;
  }
}

/** Items a walked catalogue hands over per page. */
export const WALK_PAGE = 200;

function staticStacSource(
  catalogId: string,
  rootUrl: string,
  fetcher: Fetcher
): CatalogSource {
  const walk = (signal?: AbortSignal) =>
    walkStaticCatalog(
      async (url, abort) =>
        (await fetcher({ method: 'GET', url }, abort ?? signal)).text,
      rootUrl,
      { catalogId, signal }
    );
  type Walk = ReturnType<typeof walk>;
  const documents = new WeakMap<DatasetRecord, string>();
  const parents = new Map<string, DatasetRecord>();
  const page = async (iterator: Walk): Promise<SourcePage> => {
    const records: DatasetRecord[] = [];
    const problems: string[] = [];
    for (;;) {
      const step = await iterator.next();
      if (step.done) {
        return { records, total: null, facets: null, next: null, problems };
      }
      const entry = step.value;
      if (entry.kind === 'item') {
        inherit(entry.record, parents.get(entry.parentUrl ?? ''));
        records.push(entry.record);
        documents.set(entry.record, entry.url);
      } else if (entry.kind === 'collection' || entry.kind === 'catalog') {
        parents.set(entry.url, entry.record);
      } else if (entry.kind === 'error') {
        problems.push(`${entry.url}: ${entry.error.message}`);
      }
      if (records.length >= WALK_PAGE) {
        return {
          records,
          total: null,
          facets: null,
          next: { kind: 'stac-static', state: iterator },
          problems
        };
      }
    }
  };
  return {
    kind: 'stac-static',
    server: { text: false, facets: false, bbox: false, time: false },
    spatial: true,
    temporal: true,
    knownFacets: {},
    url: rootUrl,
    search: (_query, signal) => page(walk(signal)),
    more: cursor => page(cursor.state as Walk),
    documentUrl: record => documents.get(record)
  };
}

interface ThreddsWalk {
  queue: string[];
  seen: Set<string>;
}

/** THREDDS catalogues read per page (each a request). */
export const THREDDS_CATALOGS_PER_PAGE = 10;

function threddsSource(
  catalogId: string,
  url: string,
  fetcher: Fetcher
): CatalogSource {
  const page = async (
    walk: ThreddsWalk,
    signal?: AbortSignal
  ): Promise<SourcePage> => {
    const records: DatasetRecord[] = [];
    const problems: string[] = [];
    let read = 0;
    while (walk.queue.length > 0 && read < THREDDS_CATALOGS_PER_PAGE) {
      const next = walk.queue.shift() as string;
      read += 1;
      try {
        const answer = await fetcher({ method: 'GET', url: next }, signal);
        const catalog = parseAnswer(answer, (text, at) =>
          parseThreddsCatalog(text, at, catalogId)
        );
        for (const dataset of threddsDatasets(catalog)) {
          if (dataset.record.access.length > 0) {
            records.push(dataset.record);
          }
        }
        for (const ref of threddsCatalogRefs(catalog)) {
          if (!walk.seen.has(ref.href)) {
            walk.seen.add(ref.href);
            walk.queue.push(ref.href);
          }
        }
      } catch (error) {
        if (signal?.aborted || next === url) {
          throw error;
        }
        problems.push(
          `${next}: ${error instanceof Error ? error.message : String(error)}`
        );
      }
    }
    return {
      records,
      total: null,
      facets: null,
      next: walk.queue.length > 0 ? { kind: 'thredds', state: walk } : null,
      problems
    };
  };
  return {
    kind: 'thredds',
    server: { text: false, facets: false, bbox: false, time: false },
    spatial: true,
    temporal: true,
    knownFacets: {},
    url,
    search: (_query, signal) =>
      page({ queue: [url], seen: new Set([url]) }, signal),
    more: (cursor, signal) => page(cursor.state as ThreddsWalk, signal)
  };
}

function cswSource(
  catalogId: string,
  url: string,
  fetcher: Fetcher
): CatalogSource {
  const endpoint = url.replace(/\?.*$/, '');
  const page = async (
    query: RemoteQuery,
    startPosition: number,
    signal?: AbortSignal
  ): Promise<SourcePage> => {
    const request = buildCswGetRecordsRequest(endpoint, {
      text: query.text,
      bbox: query.bbox,
      start: query.start,
      end: query.end,
      startPosition,
      maxRecords: PAGE_SIZE,
      outputSchema: 'dc',
      elementSetName: 'full'
    });
    const answer = await fetcher(
      {
        method: 'POST',
        url: request.url,
        body: request.body,
        headers: request.headers
      },
      signal
    );
    const result = parseAnswer(answer, text =>
      parseCswGetRecordsResponse(text, catalogId)
    );
    return {
      records: result.records,
      total: result.matched,
      facets: null,
      next:
        result.nextRecord !== undefined && result.records.length > 0
          ? { kind: 'csw', state: { query, start: result.nextRecord } }
          : null,
      problems: []
    };
  };
  return {
    kind: 'csw',
    server: { text: true, facets: false, bbox: true, time: true },
    spatial: true,
    temporal: true,
    knownFacets: {},
    url: endpoint,
    search: (query, signal) => page(query, 1, signal),
    more: (cursor, signal) => {
      const state = cursor.state as { query: RemoteQuery; start: number };
      return page(state.query, state.start, signal);
    }
  };
}

export interface OpenSourceOptions {
  catalogId: string;
  kind: CatalogKind;
  /** The catalogue's entry point: an http(s) URL, or the server URL of a static root. */
  url: string;
  fetcher: Fetcher;
  /** ESGF: only the latest version of each dataset. */
  latest?: boolean;
  signal?: AbortSignal;
}

/**
 * The source of a configured catalogue. A `stac` catalogue is read first: an API that
 * declares item search is searched, any other catalogue is walked.
 *
 * @throws what the fetcher throws, or CatalogParseError when a STAC root cannot be read.
 */
export async function openSource(
  options: OpenSourceOptions
): Promise<CatalogSource> {
  const { catalogId, kind, url, fetcher, signal } = options;
  switch (kind) {
    case 'esgf':
      return esgfSource(catalogId, url, fetcher, {
        latest: options.latest ?? true
      });
    case 'thredds':
      return threddsSource(catalogId, url, fetcher);
    case 'csw':
      return cswSource(catalogId, url, fetcher);
    case 'stac': {
      const answer = await fetcher({ method: 'GET', url }, signal);
      const landing = parseAnswer(answer, (text, at) =>
        parseStacLandingPage(text, at)
      );
      if (landing.conformance.itemSearch && landing.searchUrl !== undefined) {
        return stacApiSource(catalogId, landing, fetcher, signal);
      }
      return staticStacSource(catalogId, answer.url, fetcher);
    }
    default:
      throw new Error(`${kind} catalogues are not searched through the proxy`);
  }
}
