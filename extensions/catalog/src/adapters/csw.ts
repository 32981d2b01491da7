/**
 * OGC CSW 2.0.2 (GeoNetwork, pycsw): GetRecords requests with full-text, bbox and
 * time filters, GetRecordById URLs, and the responses that carry the records
 * (read by `csw-records.ts`), exception reports included.
 *
 * Specification: OGC 07-006r1 (CSW 2.0.2), OGC 07-045 (ISO application profile).
 */
import { BBox, CatalogParseError, DatasetRecord, asNumber } from '../record';
import { dublinCoreToRecord, isoToRecord } from './csw-records';
import {
  NS,
  attr,
  child,
  descendants,
  describeElement,
  escapeXml,
  parseXml,
  text
} from './xml';

const GMI = 'http://www.isotc211.org/2005/gmi';

export const CSW_OUTPUT_SCHEMAS = {
  dc: 'http://www.opengis.net/cat/csw/2.0.2',
  iso: 'http://www.isotc211.org/2005/gmd'
} as const;

export type CswOutputSchema = keyof typeof CSW_OUTPUT_SCHEMAS;

/**
 * A GetRecords query.
 */
export interface CswQuery {
  /** Full text, matched anywhere (`csw:AnyText` like `%text%`). */
  text?: string;
  /** `[west, south, east, north]` in degrees. */
  bbox?: BBox;
  /** ISO 8601 bounds: records whose temporal extent overlaps [start, end]. */
  start?: string;
  end?: string;
  /** Dublin Core (`dc`, the default) or ISO 19139 (`iso`). */
  outputSchema?: CswOutputSchema;
  elementSetName?: 'brief' | 'summary' | 'full';
  /** 1-based position of the first record. */
  startPosition?: number;
  maxRecords?: number;
}

export interface CswRequest {
  method: 'POST';
  url: string;
  body: string;
  headers: Record<string, string>;
}

/** Escape `%`, `_` and the escape character itself for a PropertyIsLike pattern. */
function likeLiteral(value: string): string {
  return value.replace(/[\\%_]/g, match => `\\${match}`);
}

function comparison(
  operator: string,
  property: string,
  literal: string
): string {
  return (
    `<ogc:${operator}><ogc:PropertyName>${property}</ogc:PropertyName>` +
    `<ogc:Literal>${escapeXml(literal)}</ogc:Literal></ogc:${operator}>`
  );
}

/**
 * The POST request of a CSW 2.0.2 GetRecords.
 *
 * The bbox is sent as a GML envelope in `urn:ogc:def:crs:EPSG::4326`, whose axis
 * order is latitude, longitude. Time uses the ISO application profile's
 * `apiso:TempExtent_begin`/`_end` queryables (GeoNetwork and pycsw answer them).
 */
export function buildCswGetRecordsRequest(
  endpoint: string,
  query: CswQuery
): CswRequest {
  const schema = query.outputSchema ?? 'dc';
  const typeNames = schema === 'iso' ? 'gmd:MD_Metadata' : 'csw:Record';
  const filters: string[] = [];
  const textQuery = query.text?.trim();
  if (textQuery) {
    filters.push(
      '<ogc:PropertyIsLike wildCard="%" singleChar="_" escapeChar="\\">' +
        '<ogc:PropertyName>csw:AnyText</ogc:PropertyName>' +
        `<ogc:Literal>%${escapeXml(likeLiteral(textQuery))}%</ogc:Literal>` +
        '</ogc:PropertyIsLike>'
    );
  }
  if (query.bbox !== undefined) {
    const [west, south, east, north] = query.bbox;
    filters.push(
      '<ogc:BBOX><ogc:PropertyName>ows:BoundingBox</ogc:PropertyName>' +
        '<gml:Envelope srsName="urn:ogc:def:crs:EPSG::4326">' +
        `<gml:lowerCorner>${south} ${west}</gml:lowerCorner>` +
        `<gml:upperCorner>${north} ${east}</gml:upperCorner>` +
        '</gml:Envelope></ogc:BBOX>'
    );
  }
  if (query.start !== undefined) {
    filters.push(
      comparison(
        'PropertyIsGreaterThanOrEqualTo',
        'apiso:TempExtent_end',
        query.start
      )
    );
  }
  if (query.end !== undefined) {
    filters.push(
      comparison(
        'PropertyIsLessThanOrEqualTo',
        'apiso:TempExtent_begin',
        query.end
      )
    );
  }
  let constraint = '';
  if (filters.length > 0) {
    const filter =
      filters.length === 1
        ? filters[0]
        : `<ogc:And>${filters.join('')}</ogc:And>`;
    constraint = `<csw:Constraint version="1.1.0"><ogc:Filter>${filter}</ogc:Filter></csw:Constraint>`;
  }
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<csw:GetRecords xmlns:csw="${NS.csw}" xmlns:ogc="${NS.ogc}" xmlns:gml="${NS.gml}" ` +
    `xmlns:ows="${NS.ows}" xmlns:gmd="${NS.gmd}" xmlns:apiso="${NS.apiso}" ` +
    'service="CSW" version="2.0.2" resultType="results" ' +
    `startPosition="${query.startPosition ?? 1}" maxRecords="${query.maxRecords ?? 10}" ` +
    `outputFormat="application/xml" outputSchema="${CSW_OUTPUT_SCHEMAS[schema]}">` +
    `<csw:Query typeNames="${typeNames}">` +
    `<csw:ElementSetName>${query.elementSetName ?? 'full'}</csw:ElementSetName>` +
    constraint +
    '</csw:Query></csw:GetRecords>';
  return {
    method: 'POST',
    url: endpoint,
    body,
    headers: { 'Content-Type': 'application/xml' }
  };
}

/**
 * The GetRecordById URL (KVP) of one record.
 */
export function buildCswGetRecordByIdUrl(
  endpoint: string,
  id: string,
  options: {
    outputSchema?: CswOutputSchema;
    elementSetName?: 'brief' | 'summary' | 'full';
  } = {}
): string {
  const query = new URLSearchParams({
    service: 'CSW',
    version: '2.0.2',
    request: 'GetRecordById',
    id,
    outputSchema: CSW_OUTPUT_SCHEMAS[options.outputSchema ?? 'iso'],
    elementSetName: options.elementSetName ?? 'full'
  });
  return `${endpoint}${endpoint.includes('?') ? '&' : '?'}${query.toString()}`;
}

export interface CswResult {
  matched: number;
  returned: number;
  /** 1-based position of the next page's first record; absent on the last page. */
  nextRecord?: number;
  records: DatasetRecord[];
}

function exceptionMessage(root: Element): string {
  const exceptions = descendants(root, NS.ows, 'Exception');
  const parts = exceptions.map(exception => {
    const code = attr(exception, 'exceptionCode');
    const message = text(child(exception, NS.ows, 'ExceptionText'));
    return [code, message].filter(Boolean).join(': ');
  });
  return parts.filter(Boolean).join('; ') || 'no detail given';
}

function checkRoot(root: Element, source: string): void {
  if (root.localName === 'ExceptionReport') {
    throw new CatalogParseError(
      source,
      `the CSW server reported an error (${exceptionMessage(root)})`
    );
  }
}

function recordElements(parent: Element): Element[] {
  return Array.from(parent.children).filter(
    element =>
      (element.namespaceURI === NS.csw &&
        /^(Record|SummaryRecord|BriefRecord)$/.test(element.localName)) ||
      ((element.namespaceURI === NS.gmd || element.namespaceURI === GMI) &&
        /^M[DI]_Metadata$/.test(element.localName))
  );
}

function readRecord(element: Element, catalogId: string): DatasetRecord {
  return element.namespaceURI === NS.csw
    ? dublinCoreToRecord(element, catalogId)
    : isoToRecord(element, catalogId);
}

/**
 * Read a GetRecordsResponse.
 *
 * @throws CatalogParseError for malformed XML, an `ows:ExceptionReport` (its message is
 *   passed on) or another document.
 */
export function parseCswGetRecordsResponse(
  xml: string,
  catalogId: string
): CswResult {
  const source = 'CSW GetRecords response';
  const root = parseXml(xml, source).documentElement;
  checkRoot(root, source);
  if (root.localName !== 'GetRecordsResponse' || root.namespaceURI !== NS.csw) {
    throw new CatalogParseError(
      source,
      `not a CSW 2.0.2 GetRecordsResponse: the root element is ${describeElement(root)}`
    );
  }
  const results = child(root, NS.csw, 'SearchResults');
  if (results === undefined) {
    throw new CatalogParseError(source, 'no <csw:SearchResults>');
  }
  const records = recordElements(results).map(element =>
    readRecord(element, catalogId)
  );
  const matched = asNumber(attr(results, 'numberOfRecordsMatched'));
  const returned = asNumber(attr(results, 'numberOfRecordsReturned'));
  const result: CswResult = {
    matched: matched ?? records.length,
    returned: returned ?? records.length,
    records
  };
  const next = asNumber(attr(results, 'nextRecord'));
  // CSW says 0 when there is no next page; some servers point past the last record.
  if (next !== undefined && next > 0 && next <= result.matched) {
    result.nextRecord = next;
  }
  return result;
}

/**
 * Read a GetRecordByIdResponse (its records; usually one).
 */
export function parseCswGetRecordByIdResponse(
  xml: string,
  catalogId: string
): DatasetRecord[] {
  const source = 'CSW GetRecordById response';
  const root = parseXml(xml, source).documentElement;
  checkRoot(root, source);
  if (
    root.localName !== 'GetRecordByIdResponse' ||
    root.namespaceURI !== NS.csw
  ) {
    throw new CatalogParseError(
      source,
      `not a CSW 2.0.2 GetRecordByIdResponse: the root element is ${describeElement(root)}`
    );
  }
  return recordElements(root).map(element => readRecord(element, catalogId));
}
