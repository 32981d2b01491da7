/**
 * A search over catalogue records held in the browser (the parts of a query a source
 * does not do itself, and every part for walked catalogues): free text, facets (OR
 * within a facet, AND across facets), a bbox and a time range; facet counts under the
 * other facets' choices; and the search state as URL parameters for shared links.
 * Pure functions, no DOM.
 */
import type { BBox, DatasetRecord, FacetCounts } from '../record';

/** What the user asks of a catalogue. */
export interface RemoteQuery {
  /** Free text; empty for none. */
  text: string;
  /** Per facet, the values ticked. */
  facets: Readonly<Record<string, readonly string[]>>;
  bbox?: BBox;
  /** ISO 8601 dates (`YYYY-MM-DD` or longer); open when absent. */
  start?: string;
  end?: string;
}

export const EMPTY_QUERY: RemoteQuery = { text: '', facets: {} };

/** Which parts of a query a search service applies itself. */
export interface ServerParts {
  text: boolean;
  facets: boolean;
  bbox: boolean;
  time: boolean;
}

/** The query without the parts the service applies (those the browser must apply). */
export function browserPart(
  query: RemoteQuery,
  server: ServerParts
): RemoteQuery {
  const out: RemoteQuery = {
    text: server.text ? '' : query.text,
    facets: server.facets ? {} : query.facets
  };
  if (!server.bbox && query.bbox !== undefined) {
    out.bbox = query.bbox;
  }
  if (!server.time) {
    if (query.start !== undefined) {
      out.start = query.start;
    }
    if (query.end !== undefined) {
      out.end = query.end;
    }
  }
  return out;
}

/** The query's parts the service applies, as a key that changes when they change. */
export function serverKey(query: RemoteQuery, server: ServerParts): string {
  return JSON.stringify([
    server.text ? query.text.trim() : '',
    server.facets ? sortedFacets(query.facets) : [],
    server.bbox ? (query.bbox ?? null) : null,
    server.time ? [query.start ?? null, query.end ?? null] : null
  ]);
}

function sortedFacets(
  facets: RemoteQuery['facets']
): Array<[string, string[]]> {
  return Object.keys(facets)
    .filter(name => facets[name].length > 0)
    .sort()
    .map(name => [name, [...facets[name]].sort()]);
}

/** Whether two boxes `[w, s, e, n]` overlap (a box crossing the antimeridian has w > e). */
export function bboxIntersects(a: BBox, b: BBox): boolean {
  if (a[1] > b[3] || b[1] > a[3]) {
    return false;
  }
  const spans = (box: BBox): Array<[number, number]> => {
    const west = box[0] > 180 ? box[0] - 360 : box[0];
    const east = box[2] > 180 ? box[2] - 360 : box[2];
    return west <= east
      ? [[west, east]]
      : [
          [west, 180],
          [-180, east]
        ];
  };
  return spans(a).some(([w1, e1]) =>
    spans(b).some(([w2, e2]) => w1 <= e2 && w2 <= e1)
  );
}

/** The date part (`YYYY-MM-DD`, or a shorter prefix) of an ISO 8601 text, for comparing. */
function day(text: string): string {
  return text.trim().slice(0, 10);
}

function textOf(record: DatasetRecord): string {
  return [
    record.id,
    record.title,
    record.description ?? '',
    ...Object.values(record.facets).flat(),
    ...record.variables.map(variable => variable.name)
  ]
    .join('\n')
    .toLowerCase();
}

/**
 * Whether a record matches a query held in the browser; `skipFacet` leaves one facet's
 * choice out (for counting that facet's values). Every word of the text must occur in
 * the record's id, title, description, facet values or variable names. A record
 * without a spatial or temporal extent does not match a bbox or a time range.
 */
export function recordMatches(
  record: DatasetRecord,
  query: RemoteQuery,
  skipFacet?: string
): boolean {
  const words = query.text.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length > 0) {
    const haystack = textOf(record);
    if (!words.every(word => haystack.includes(word))) {
      return false;
    }
  }
  for (const [name, values] of Object.entries(query.facets)) {
    if (name === skipFacet || values.length === 0) {
      continue;
    }
    const have = record.facets[name] ?? [];
    if (!values.some(value => have.includes(value))) {
      return false;
    }
  }
  if (query.bbox !== undefined) {
    const box = record.spatial?.bbox;
    if (box === undefined || !bboxIntersects(box, query.bbox)) {
      return false;
    }
  }
  if (query.start !== undefined || query.end !== undefined) {
    const extent = record.temporal;
    if (extent === undefined || (!extent.start && !extent.end)) {
      return false;
    }
    if (
      query.start !== undefined &&
      extent.end !== undefined &&
      day(extent.end) < day(query.start)
    ) {
      return false;
    }
    if (
      query.end !== undefined &&
      extent.start !== undefined &&
      day(extent.start) > day(query.end)
    ) {
      return false;
    }
  }
  return true;
}

export function filterRecords(
  records: readonly DatasetRecord[],
  query: RemoteQuery
): DatasetRecord[] {
  return records.filter(record => recordMatches(record, query));
}

/**
 * The values of every facet of `records` with the number of records that have them,
 * each facet counted under the other facets' choices (so that its other values stay
 * visible with the records they would add), most frequent first.
 *
 * @param names The facets to count; every facet the records have when absent.
 */
export function countFacets(
  records: readonly DatasetRecord[],
  query: RemoteQuery,
  names?: readonly string[]
): FacetCounts {
  const facetNames =
    names ??
    Array.from(
      new Set(records.flatMap(record => Object.keys(record.facets)))
    ).sort();
  const out: FacetCounts = {};
  const base = { ...query };
  for (const name of facetNames) {
    const counts = new Map<string, number>();
    for (const record of records) {
      const values = record.facets[name];
      if (values === undefined || !recordMatches(record, base, name)) {
        continue;
      }
      for (const value of values) {
        counts.set(value, (counts.get(value) ?? 0) + 1);
      }
    }
    out[name] = Array.from(counts, ([value, count]) => ({ value, count })).sort(
      (a, b) => b.count - a.count || a.value.localeCompare(b.value)
    );
  }
  return out;
}

/** The query with `value` of `facet` ticked or unticked. */
export function toggleFacet(
  query: RemoteQuery,
  facet: string,
  value: string
): RemoteQuery {
  const current = query.facets[facet] ?? [];
  const next = current.includes(value)
    ? current.filter(item => item !== value)
    : [...current, value];
  const facets: Record<string, readonly string[]> = { ...query.facets };
  if (next.length === 0) {
    delete facets[facet];
  } else {
    facets[facet] = next;
  }
  return { ...query, facets };
}

/** The URL parameters of a shared search: the catalogue and the query. */
export const SHARE_PARAMS = {
  catalog: 'espri-vre-catalog',
  text: 'espri-vre-q',
  facet: 'espri-vre-facet',
  bbox: 'espri-vre-bbox',
  start: 'espri-vre-start',
  end: 'espri-vre-end'
} as const;

/**
 * The URL parameters that restore a search: the catalogue id, the text, each ticked
 * facet value as `name=value`, the bbox as `w,s,e,n` and the time bounds.
 */
export function encodeSearch(
  catalogId: string,
  query: RemoteQuery
): URLSearchParams {
  const params = new URLSearchParams();
  params.set(SHARE_PARAMS.catalog, catalogId);
  if (query.text.trim() !== '') {
    params.set(SHARE_PARAMS.text, query.text.trim());
  }
  for (const [name, values] of sortedFacets(query.facets)) {
    for (const value of values) {
      params.append(SHARE_PARAMS.facet, `${name}=${value}`);
    }
  }
  if (query.bbox !== undefined) {
    params.set(SHARE_PARAMS.bbox, query.bbox.join(','));
  }
  if (query.start !== undefined) {
    params.set(SHARE_PARAMS.start, query.start);
  }
  if (query.end !== undefined) {
    params.set(SHARE_PARAMS.end, query.end);
  }
  return params;
}

const DATE = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+Z?)?$/;

/**
 * The catalogue and query of a shared link, or null when the URL holds none. Parts
 * that cannot be read (a bbox out of range, a date that is not one) are left out.
 */
export function decodeSearch(
  params: URLSearchParams
): { catalogId: string; query: RemoteQuery } | null {
  const catalogId = params.get(SHARE_PARAMS.catalog);
  if (catalogId === null || catalogId === '') {
    return null;
  }
  const facets: Record<string, string[]> = {};
  for (const entry of params.getAll(SHARE_PARAMS.facet)) {
    const at = entry.indexOf('=');
    if (at <= 0) {
      continue;
    }
    const name = entry.slice(0, at);
    (facets[name] ??= []).push(entry.slice(at + 1));
  }
  const query: RemoteQuery = {
    text: params.get(SHARE_PARAMS.text) ?? '',
    facets
  };
  const bbox = params.get(SHARE_PARAMS.bbox)?.split(',').map(Number);
  if (
    bbox !== undefined &&
    bbox.length === 4 &&
    bbox.every(Number.isFinite) &&
    bbox[1] >= -90 &&
    bbox[3] <= 90 &&
    bbox[1] <= bbox[3]
  ) {
    query.bbox = [bbox[0], bbox[1], bbox[2], bbox[3]];
  }
  const start = params.get(SHARE_PARAMS.start);
  if (start !== null && DATE.test(start)) {
    query.start = start;
  }
  const end = params.get(SHARE_PARAMS.end);
  if (end !== null && DATE.test(end)) {
    query.end = end;
  }
  return { catalogId, query };
}
