import { describe, expect, it } from 'vitest';
import {
  previewReference,
  recordFootprint
} from '../../src/browser/dataset-actions';
import { emptyRecord } from '../../src/record';

function record() {
  const made = emptyRecord(
    'tas-item',
    'Near-surface air temperature',
    'stac',
    'stac'
  );
  made.identifiers = { doi: '10.22033/ESGF/CMIP6.1234' };
  made.version = 'v20190308';
  made.access = [
    { url: 'https://example.org/tas.nc', protocol: 'http', roles: ['data'] }
  ];
  return made;
}

describe('previewReference', () => {
  it('keeps the identity and identifiers, with the server path as the one way in', () => {
    expect(previewReference(record(), '/srv/data/tas.nc')).toEqual({
      id: 'tas-item',
      title: 'Near-surface air temperature',
      source: { catalog_id: 'stac', kind: 'stac' },
      identifiers: {
        doi: '10.22033/ESGF/CMIP6.1234',
        version: 'v20190308'
      },
      access: [{ url: '/srv/data/tas.nc', protocol: 'file' }]
    });
  });
});

describe('recordFootprint', () => {
  it('is null without a bbox or a geometry', () => {
    expect(recordFootprint(record())).toBeNull();
  });

  it('gives the bbox as a box', () => {
    const made = record();
    made.spatial = { bbox: [-10, 40, 10, 50] };
    expect(recordFootprint(made)).toEqual({
      title: 'Near-surface air temperature',
      boxes: [{ west: -10, south: 40, east: 10, north: 50 }],
      polygons: []
    });
  });

  it('gives the outer ring of each polygon, holes and heights left out', () => {
    const made = record();
    made.spatial = {
      geometry: {
        type: 'MultiPolygon',
        coordinates: [
          [
            [
              [0, 0, 12],
              [4, 0, 12],
              [4, 4, 12],
              [0, 0, 12]
            ],
            [
              [1, 1],
              [2, 1],
              [2, 2],
              [1, 1]
            ]
          ],
          [
            [
              [170, -5],
              [-170, -5],
              [-170, 5],
              [170, -5]
            ]
          ]
        ]
      }
    };
    expect(recordFootprint(made)).toEqual({
      title: 'Near-surface air temperature',
      boxes: [],
      polygons: [
        [
          [0, 0],
          [4, 0],
          [4, 4],
          [0, 0]
        ],
        [
          [170, -5],
          [-170, -5],
          [-170, 5],
          [170, -5]
        ]
      ]
    });
  });
});
