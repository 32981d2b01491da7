import { describe, expect, it } from 'vitest';
import {
  LayerSources,
  MAX_KEPT_VALUES,
  parseLayerSources
} from '../src/layer-sources';

const FOOTPRINT = {
  kind: 'footprint' as const,
  footprint: {
    title: 'CORDEX EUR-11',
    boxes: [{ west: -44, south: 22, east: 65, north: 72 }]
  }
};
const FIELD = {
  kind: 'field' as const,
  field: { title: 'tas', lon: [0, 1], lat: [0], values: [280, null] }
};

describe('LayerSources', () => {
  it('keeps the sources of the layers on the globe, in order, and forgets removed ones', () => {
    const sources = new LayerSources();
    sources.add('a', FOOTPRINT);
    sources.add('b', FIELD);
    sources.add('c', { kind: 'demo-points', count: 1000 });
    expect(sources.toJSON()).toEqual([
      FOOTPRINT,
      FIELD,
      { kind: 'demo-points', count: 1000 }
    ]);
    sources.keepOnly(['c', 'a']);
    expect(sources.toJSON()).toEqual([
      FOOTPRINT,
      { kind: 'demo-points', count: 1000 }
    ]);
  });

  it('does not keep a field too large for the workspace', () => {
    const sources = new LayerSources();
    const values = new Array<number>(MAX_KEPT_VALUES + 1).fill(1);
    sources.add('big', {
      kind: 'field',
      field: { title: 'big', lon: [], lat: [], values }
    });
    expect(sources.toJSON()).toEqual([]);
  });
});

describe('parseLayerSources', () => {
  it('reads back what toJSON wrote and leaves out what is not a source', () => {
    const sources = new LayerSources();
    sources.add('a', FOOTPRINT);
    sources.add('b', FIELD);
    expect(parseLayerSources(sources.toJSON())).toEqual([FOOTPRINT, FIELD]);
    expect(
      parseLayerSources([
        FOOTPRINT,
        { kind: 'field', field: { title: 'no grid' } },
        { kind: 'demo-points', count: -1 },
        { kind: 'bogus' },
        null,
        'footprint'
      ])
    ).toEqual([FOOTPRINT]);
    expect(parseLayerSources(undefined)).toEqual([]);
    expect(parseLayerSources({ kind: 'footprint' })).toEqual([]);
  });
});
