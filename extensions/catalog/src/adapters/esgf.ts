/**
 * ESGF esg-search: request URLs for dataset and file searches and for wget scripts,
 * and the Solr JSON answers (`format=application/solr+json`) read into records and
 * facet counts.
 *
 * esg-search's API: https://esgf.github.io/esg-search/ESGF_Search_RESTful_API.html
 */
import {
  CatalogParseError,
  DatasetRecord,
  FacetCounts,
  JsonObject,
  RecordAccessUrl,
  RecordVariable,
  addFacet,
  asNumber,
  asString,
  baseName,
  emptyRecord,
  firstString,
  formatCitation,
  guessProtocol,
  identifierUrl,
  isJsonObject,
  makeBBox,
  makeChecksum,
  normaliseDoi,
  normalisePid,
  parseJsonObject,
  safeUrl,
  setDefined,
  stringList
} from '../record';
import { attr, describeElement, parseXml, text } from './xml';

export type EsgfRecordType = 'Dataset' | 'File' | 'Aggregation';

/**
 * An esg-search query.
 */
export interface EsgfSearchParams {
  type?: EsgfRecordType;
  /** Free text (Solr query syntax), sent as `query`. */
  query?: string;
  /** Facet constraints: values of one facet are ORed, facets are ANDed. */
  constraints?: Record<string, string[]>;
  /** Only the latest version of each dataset (`latest=true`); all versions when false. */
  latest?: boolean;
  /** Replicas only (true), originals only (false), both (undefined). */
  replica?: boolean;
  /** Search every federated index node (`distrib=true`) or this node only. */
  distrib?: boolean;
  offset?: number;
  limit?: number;
  /** Facets whose counts to return (`facets=a,b,c`). */
  facets?: string[];
  /** Fields to return (`fields=a,b`); all when absent. */
  fields?: string[];
  /** Files of this dataset (for `type: 'File'`). */
  datasetId?: string;
  /** `[west, south, east, north]`. */
  bbox?: [number, number, number, number];
  /** ISO 8601 bounds on the data's time coverage. */
  start?: string;
  end?: string;
}

function endpoint(base: string, name: 'search' | 'wget'): string {
  return `${base.replace(/\/+$/, '')}/${name}`;
}

function withQuery(url: string, params: URLSearchParams): string {
  const query = params.toString();
  return query === '' ? url : `${url}${url.includes('?') ? '&' : '?'}${query}`;
}

function appendConstraints(
  params: URLSearchParams,
  constraints: Record<string, string[]> | undefined
): void {
  for (const [key, values] of Object.entries(constraints ?? {})) {
    for (const value of values) {
      params.append(key, value);
    }
  }
}

/**
 * The esg-search `search` URL for `params`, answering Solr JSON.
 *
 * @param base The esg-search root, such as `https://esgf-node.ipsl.upmc.fr/esg-search`
 *   (or a path of the server's proxy that forwards to it); `/search` is appended.
 */
export function buildEsgfSearchUrl(
  base: string,
  params: EsgfSearchParams
): string {
  const query = new URLSearchParams();
  query.set('type', params.type ?? 'Dataset');
  if (params.query !== undefined && params.query.trim() !== '') {
    query.set('query', params.query.trim());
  }
  if (params.datasetId !== undefined) {
    query.set('dataset_id', params.datasetId);
  }
  appendConstraints(query, params.constraints);
  if (params.bbox !== undefined) {
    query.set('bbox', `[${params.bbox.join(',')}]`);
  }
  if (params.start !== undefined) {
    query.set('start', params.start);
  }
  if (params.end !== undefined) {
    query.set('end', params.end);
  }
  if (params.latest !== undefined) {
    query.set('latest', String(params.latest));
  }
  if (params.replica !== undefined) {
    query.set('replica', String(params.replica));
  }
  if (params.distrib !== undefined) {
    query.set('distrib', String(params.distrib));
  }
  if (params.offset !== undefined) {
    query.set('offset', String(params.offset));
  }
  if (params.limit !== undefined) {
    query.set('limit', String(params.limit));
  }
  if (params.facets !== undefined && params.facets.length > 0) {
    query.set('facets', params.facets.join(','));
  }
  if (params.fields !== undefined && params.fields.length > 0) {
    query.set('fields', params.fields.join(','));
  }
  query.set('format', 'application/solr+json');
  return withQuery(endpoint(base, 'search'), query);
}

/**
 * The esg-search `wget` URL that answers a shell script downloading every file of the
 * given datasets (over HTTPServer).
 *
 * @param datasetIds ESGF dataset ids (`instance_id|data_node`, as in search results).
 * @param options.limit Maximum number of files in the script; esg-search's default is
 *   1000, which large datasets exceed.
 */
export function buildEsgfWgetUrl(
  base: string,
  datasetIds: string[],
  options: { limit?: number; constraints?: Record<string, string[]> } = {}
): string {
  if (datasetIds.length === 0) {
    throw new RangeError('A wget script needs at least one dataset id');
  }
  const query = new URLSearchParams();
  for (const id of datasetIds) {
    query.append('dataset_id', id);
  }
  appendConstraints(query, options.constraints);
  if (options.limit !== undefined) {
    query.set('limit', String(options.limit));
  }
  return withQuery(endpoint(base, 'wget'), query);
}

/**
 * One page of an esg-search answer.
 */
export interface EsgfSearchResult {
  /** Number of matching records on the searched nodes (`response.numFound`). */
  total: number;
  /** Offset of the first record of this page. */
  offset: number;
  records: DatasetRecord[];
  facets: FacetCounts;
}

/**
 * Fields that are not facets: identifiers, free text, templates, bookkeeping, and the
 * parts of a variable's description (which go into `variables`).
 */
const NOT_FACETS = new Set([
  'id',
  'title',
  'description',
  'type',
  'version',
  'instance_id',
  'master_id',
  'dataset_id',
  'url',
  'xlink',
  'pid',
  'doi',
  'tracking_id',
  'checksum',
  'checksum_type',
  'citation_url',
  'further_info_url',
  'dataset_id_template_',
  'directory_format_template_',
  'datetime_start',
  'datetime_stop',
  'timestamp',
  '_timestamp',
  'variable_long_name',
  'variable_units',
  'cf_standard_name',
  'file_id',
  'drs_id',
  'license',
  'experiment_title',
  'grid',
  'geo_units',
  'height_units',
  // Numbers and booleans: JSON answers give them as such, Solr XML documents as text.
  'size',
  'number_of_files',
  'number_of_aggregations',
  'north_degrees',
  'south_degrees',
  'east_degrees',
  'west_degrees',
  'height_bottom',
  'height_top',
  'latest',
  'replica',
  'retracted',
  'score'
]);

/**
 * One esg-search `url` or `xlink` entry, `url|mime type|service name`.
 */
export interface EsgfUrl {
  url: string;
  mediaType?: string;
  service?: string;
}

/** Split `url|mime|service` (the URL itself never holds a `|`, esg-search escapes it). */
export function splitEsgfUrl(entry: string): EsgfUrl {
  const [url, mediaType, service] = entry.split('|');
  const out: EsgfUrl = { url: url.trim() };
  if (mediaType !== undefined && mediaType.trim() !== '') {
    out.mediaType = mediaType.trim();
  }
  if (service !== undefined && service.trim() !== '') {
    out.service = service.trim();
  }
  return out;
}

function accessFromUrl(entry: string): RecordAccessUrl | undefined {
  const parts = splitEsgfUrl(entry);
  const protocol = guessProtocol({
    url: parts.url,
    service: parts.service,
    mediaType: parts.mediaType
  });
  let url = parts.url;
  let mediaType = parts.mediaType;
  if (protocol === 'opendap') {
    // esg-search lists the OPeNDAP form page (`.nc.html`); clients want the endpoint.
    url = url.replace(/\.html$/, '');
    if (mediaType === 'application/opendap-html') {
      mediaType = undefined;
    }
  }
  const safe = safeUrl(url);
  if (safe === undefined) {
    return undefined;
  }
  const access: RecordAccessUrl = { url: safe, protocol };
  if (mediaType !== undefined) {
    access.media_type = mediaType;
  }
  if (parts.service !== undefined) {
    access.service = parts.service;
    access.description = parts.service;
  }
  return access;
}

const ACCESS_ORDER = [
  'opendap',
  'http',
  'zarr',
  'kerchunk',
  's3',
  'globus',
  'other'
];

function byProtocol(a: RecordAccessUrl, b: RecordAccessUrl): number {
  const rank = (item: RecordAccessUrl): number => {
    const index = ACCESS_ORDER.indexOf(item.protocol);
    return index === -1 ? ACCESS_ORDER.length - 1 : index;
  };
  return rank(a) - rank(b);
}

function variablesOf(doc: JsonObject): RecordVariable[] {
  const names =
    stringList(doc.variable).length > 0
      ? stringList(doc.variable)
      : stringList(doc.variable_id);
  const longNames = stringList(doc.variable_long_name);
  const units = stringList(doc.variable_units);
  const standardNames = stringList(doc.cf_standard_name);
  // The description lists are parallel to the names only when they have the same
  // length; otherwise pairing them would attach units to the wrong variable.
  const pick = (list: string[], index: number): string | undefined =>
    list.length === names.length ? list[index] : undefined;
  return names.map((name, index) => {
    const variable: RecordVariable = { name };
    const longName = pick(longNames, index);
    const unit = pick(units, index);
    const standardName = pick(standardNames, index);
    if (longName !== undefined) {
      variable.long_name = longName;
    }
    if (unit !== undefined) {
      variable.units = unit;
    }
    if (standardName !== undefined) {
      variable.standard_name = standardName;
    }
    return variable;
  });
}

/**
 * A record from one esg-search document (a Dataset, File or Aggregation). Field
 * values may be strings, numbers or lists, as Solr answers them; CMIP6, CMIP5 and
 * CORDEX field names are all read.
 */
export function esgfDocToRecord(
  doc: JsonObject,
  catalogId: string
): DatasetRecord {
  const urls = stringList(doc.url);
  const access = urls
    .map(accessFromUrl)
    .filter((item): item is RecordAccessUrl => item !== undefined);
  access.sort(byProtocol);
  const firstFileUrl =
    access.find(item => item.protocol === 'http')?.url ?? access[0]?.url;
  const title =
    firstString(doc.title) ??
    (firstFileUrl !== undefined ? baseName(firstFileUrl) : undefined) ??
    'untitled';
  const dataNode = firstString(doc.data_node);
  const id =
    firstString(doc.id) ??
    firstString(doc.instance_id) ??
    (firstFileUrl !== undefined
      ? `${firstFileUrl}${dataNode ? `|${dataNode}` : ''}`
      : title);
  const record = emptyRecord(id, title, catalogId, 'esgf');
  record.access = access;

  const description = firstString(doc.description);
  if (description !== undefined) {
    record.description = description;
  }
  for (const [key, value] of Object.entries(doc)) {
    if (NOT_FACETS.has(key) || key.startsWith('_')) {
      continue;
    }
    if (
      typeof value === 'string' ||
      (Array.isArray(value) && value.every(item => typeof item === 'string'))
    ) {
      addFacet(record.facets, key, value);
    }
  }
  record.variables = variablesOf(doc);

  const bbox = makeBBox(
    doc.west_degrees,
    doc.south_degrees,
    doc.east_degrees,
    doc.north_degrees
  );
  if (bbox !== undefined) {
    record.spatial = { bbox };
  }
  setDefined(record, 'temporal', {
    start: firstString(doc.datetime_start),
    end: firstString(doc.datetime_stop)
  });

  const size = asNumber(doc.size);
  if (size !== undefined) {
    record.size = size;
  }
  const checksum = makeChecksum(doc.checksum_type, doc.checksum);
  if (checksum !== undefined) {
    record.checksum = checksum;
  }
  const version = firstString(doc.version);
  if (version !== undefined) {
    record.version = version;
  }
  const parent = firstString(doc.dataset_id);
  if (parent !== undefined) {
    record.parent_id = parent;
  }

  const xlinks = stringList(doc.xlink).map(splitEsgfUrl);
  const pid =
    normalisePid(firstString(doc.pid)) ??
    normalisePid(
      xlinks.find(link => link.service?.toLowerCase() === 'pid')?.url
    );
  if (pid !== undefined) {
    record.identifiers.pid = pid;
  }
  const doi =
    normaliseDoi(firstString(doc.doi)) ??
    normaliseDoi(
      xlinks.find(link => link.service?.toLowerCase() === 'doi')?.url
    );
  if (doi !== undefined) {
    record.identifiers.doi = doi;
  }
  const trackingIds = stringList(doc.tracking_id);
  if (trackingIds.length > 0) {
    record.identifiers.tracking_ids = trackingIds;
  }
  const instanceId = firstString(doc.instance_id);
  if (instanceId !== undefined) {
    record.identifiers.instance_id = instanceId;
  }
  const masterId = firstString(doc.master_id);
  if (masterId !== undefined) {
    record.identifiers.master_id = masterId;
  }

  const licence = firstString(doc.license);
  if (licence !== undefined) {
    record.licence = { text: licence };
  }
  const citationUrl =
    safeUrl(firstString(doc.citation_url)) ??
    safeUrl(
      xlinks.find(link => link.service?.toLowerCase() === 'citation')?.url
    );
  const resolver = identifierUrl(record.identifiers);
  if (
    record.identifiers.pid !== undefined ||
    record.identifiers.doi !== undefined ||
    citationUrl !== undefined
  ) {
    const creators =
      stringList(doc.institution_id).length > 0
        ? stringList(doc.institution_id)
        : stringList(doc.institute);
    record.citation = {
      text: formatCitation({
        creators,
        title: firstString(doc.master_id) ?? title,
        version: version,
        publisher: 'Earth System Grid Federation',
        url: resolver
      })
    };
    const url = citationUrl ?? resolver;
    if (url !== undefined) {
      record.citation.url = url;
    }
  }
  return record;
}

function facetCountsOf(value: unknown, source: string): FacetCounts {
  const out: FacetCounts = {};
  if (value === undefined) {
    return out;
  }
  if (!isJsonObject(value)) {
    throw new CatalogParseError(
      source,
      'facet_counts.facet_fields is not an object'
    );
  }
  for (const [key, flat] of Object.entries(value)) {
    if (!Array.isArray(flat) || flat.length % 2 !== 0) {
      throw new CatalogParseError(
        source,
        `facet "${key}" is not a list of value, count pairs`
      );
    }
    const pairs: Array<{ value: string; count: number }> = [];
    for (let index = 0; index < flat.length; index += 2) {
      const facetValue = asString(flat[index]);
      const count = asNumber(flat[index + 1]);
      if (facetValue === undefined || count === undefined) {
        throw new CatalogParseError(
          source,
          `facet "${key}" has a malformed entry at position ${index}`
        );
      }
      pairs.push({ value: facetValue, count });
    }
    out[key] = pairs;
  }
  return out;
}

/**
 * Read an esg-search Solr JSON answer (a Dataset or a File search).
 *
 * @param body The response text, or the already parsed JSON.
 * @throws CatalogParseError when the body is not JSON or not a Solr answer.
 */
export function parseEsgfSearchResponse(
  body: unknown,
  catalogId: string
): EsgfSearchResult {
  const source = 'ESGF search response';
  const json = parseJsonObject(body, source);
  const response = json.response;
  if (!isJsonObject(response)) {
    throw new CatalogParseError(
      source,
      'no "response" object (is this esg-search with format=application/solr+json?)'
    );
  }
  const total = asNumber(response.numFound);
  if (total === undefined || !Array.isArray(response.docs)) {
    throw new CatalogParseError(source, '"response" lacks numFound or docs');
  }
  const records = response.docs.map((doc, index) => {
    if (!isJsonObject(doc)) {
      throw new CatalogParseError(source, `document ${index} is not an object`);
    }
    return esgfDocToRecord(doc, catalogId);
  });
  const facetCounts = json.facet_counts;
  const facets = isJsonObject(facetCounts)
    ? facetCountsOf(facetCounts.facet_fields, source)
    : {};
  return { total, offset: asNumber(response.start) ?? 0, records, facets };
}

/**
 * Read one Solr document in the `<doc><field name="...">` form that ESGF publishes to
 * its index (multi-valued fields repeat the element).
 */
export function parseEsgfSolrXmlDoc(
  xml: string,
  catalogId: string
): DatasetRecord {
  const source = 'ESGF Solr record';
  const root = parseXml(xml, source).documentElement;
  if (root.localName !== 'doc') {
    throw new CatalogParseError(
      source,
      `expected a <doc> element but got ${describeElement(root)}`
    );
  }
  const doc: Record<string, string[]> = {};
  for (const field of Array.from(root.children)) {
    const name = attr(field, 'name');
    const value = text(field);
    if (
      field.localName !== 'field' ||
      name === undefined ||
      value === undefined
    ) {
      continue;
    }
    (doc[name] ??= []).push(value);
  }
  if (doc.id === undefined) {
    throw new CatalogParseError(source, 'the document has no "id" field');
  }
  return esgfDocToRecord(doc, catalogId);
}
