import { describe, expect, it } from 'vitest';
import {
  bboxIntersects,
  browserPart,
  countFacets,
  decodeSearch,
  encodeSearch,
  filterRecords,
  serverKey,
  toggleFacet,
  type RemoteQuery
} from '../../src/browser/query';
import { emptyRecord, type DatasetRecord } from '../../src/record';

function record(
  id: string,
  facets: Record<string, string[]>,
  extra: Partial<DatasetRecord> = {}
): DatasetRecord {
  return {
    ...emptyRecord(id, `Title of ${id}`, 'c', 'stac'),
    facets,
    ...extra
  };
}

const RECORDS = [
  record('a', { source_id: ['IPSL-CM6A-LR'], variable_id: ['tas'] }),
  record('b', { source_id: ['IPSL-CM6A-LR'], variable_id: ['pr'] }),
  record('c', { source_id: ['CNRM-CM6-1'], variable_id: ['tas'] }),
  record('d', { source_id: ['CNRM-CM6-1'], variable_id: ['tas', 'pr'] })
];

describe('searching records in the browser', () => {
  it('ORs values of one facet and ANDs facets', () => {
    const query: RemoteQuery = {
      text: '',
      facets: { source_id: ['CNRM-CM6-1', 'IPSL-CM6A-LR'], variable_id: ['pr'] }
    };
    expect(filterRecords(RECORDS, query).map(r => r.id)).toEqual(['b', 'd']);
  });

  it("counts each facet under the other facets' choices", () => {
    const query = toggleFacet({ text: '', facets: {} }, 'variable_id', 'tas');
    const counts = countFacets(RECORDS, query);
    expect(counts.source_id).toEqual([
      { value: 'CNRM-CM6-1', count: 2 },
      { value: 'IPSL-CM6A-LR', count: 1 }
    ]);
    expect(counts.variable_id).toEqual([
      { value: 'tas', count: 3 },
      { value: 'pr', count: 2 }
    ]);
  });

  it('matches every word of the text in ids, titles and facet values', () => {
    expect(
      filterRecords(RECORDS, { text: 'cnrm PR', facets: {} }).map(r => r.id)
    ).toEqual(['d']);
  });

  it('overlaps boxes across the antimeridian and 0..360 longitudes', () => {
    expect(bboxIntersects([170, -10, -170, 10], [175, 0, 180, 5])).toBe(true);
    expect(bboxIntersects([170, -10, -170, 10], [0, 0, 10, 5])).toBe(false);
    expect(bboxIntersects([0, -90, 360, 90], [-10, 0, 10, 5])).toBe(true);
    expect(bboxIntersects([0, 0, 10, 10], [0, 20, 10, 30])).toBe(false);
  });

  it('keeps records whose time range overlaps, and drops those without one', () => {
    const dated = [
      record('x', {}, { temporal: { start: '2000-01-01', end: '2000-12-31' } }),
      record('y', {}, { temporal: { start: '2010-01-01T00:00:00Z' } }),
      record('z', {})
    ];
    const ids = (start?: string, end?: string) =>
      filterRecords(dated, { text: '', facets: {}, start, end }).map(r => r.id);
    expect(ids('2000-06-01', '2000-06-30')).toEqual(['x']);
    expect(ids('2005-01-01')).toEqual(['y']);
    expect(ids(undefined, '1999-12-31')).toEqual([]);
  });

  it('leaves to the browser only what the server does not apply', () => {
    const query: RemoteQuery = {
      text: 'tas',
      facets: { a: ['1'] },
      bbox: [0, 0, 1, 1],
      start: '2000-01-01'
    };
    const server = { text: true, facets: false, bbox: true, time: false };
    expect(browserPart(query, server)).toEqual({
      text: '',
      facets: { a: ['1'] },
      start: '2000-01-01'
    });
    expect(serverKey(query, server)).toBe(
      serverKey({ ...query, facets: { b: ['2'] } }, server)
    );
    expect(serverKey(query, server)).not.toBe(
      serverKey({ ...query, text: 'pr' }, server)
    );
  });
});

describe('search links', () => {
  it('restores the catalogue, text, facets, bbox and time range', () => {
    const query: RemoteQuery = {
      text: 'near surface',
      facets: { source_id: ['IPSL-CM6A-LR', 'a=b&c'], table_id: ['Amon'] },
      bbox: [-10, 35, 30, 60],
      start: '2000-01-01',
      end: '2014-12-31'
    };
    const params = encodeSearch('esgf-ipsl', query);
    const link = `http://hub/lab?${params.toString()}`;
    expect(decodeSearch(new URL(link).searchParams)).toEqual({
      catalogId: 'esgf-ipsl',
      query: {
        ...query,
        facets: { source_id: ['IPSL-CM6A-LR', 'a=b&c'], table_id: ['Amon'] }
      }
    });
  });

  it('drops parts that cannot be read and needs a catalogue', () => {
    const params = new URLSearchParams(
      'espri-vre-catalog=x&espri-vre-bbox=0,95,1,96&espri-vre-start=yesterday&espri-vre-facet=novalue'
    );
    expect(decodeSearch(params)).toEqual({
      catalogId: 'x',
      query: { text: '', facets: {} }
    });
    expect(decodeSearch(new URLSearchParams('espri-vre-q=tas'))).toBeNull();
  });
});
