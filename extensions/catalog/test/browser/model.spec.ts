import { ApiError } from '@espri-vre/core';
import { nullTranslator } from '@jupyterlab/translation';
import { describe, expect, it } from 'vitest';
import {
  datasetCode,
  datasetQuery,
  facetView,
  failureView,
  filesRoute,
  FILTER_THRESHOLD,
  isServerPath,
  previewPath,
  selectionQuery,
  toggleValue
} from '../../src/browser/model';
import { parseEsmCollection } from '../../src/intake/collection';

const trans = nullTranslator.load('espri_vre');

const collection = parseEsmCollection({
  esmcat_version: '0.1.0',
  id: 'demo',
  attributes: [{ column_name: 'source_id', vocabulary: '' }],
  assets: { column_name: 'path', format_column_name: 'format' },
  aggregation_control: {
    variable_column_name: 'variable_id',
    groupby_attrs: ['source_id', 'storage'],
    aggregations: []
  }
});

describe('facet selection', () => {
  it('ticks and unticks values, dropping a column left empty', () => {
    let selection = toggleValue({}, 'source_id', 'A');
    selection = toggleValue(selection, 'source_id', 'B');
    expect(selection).toEqual({ source_id: ['A', 'B'] });
    selection = toggleValue(selection, 'source_id', 'A');
    expect(selection).toEqual({ source_id: ['B'] });
    expect(toggleValue(selection, 'source_id', 'B')).toEqual({});
  });

  it('makes an intake-esm query of the ticked columns only', () => {
    expect(selectionQuery({ a: ['x'], b: [] })).toEqual({ a: ['x'] });
  });
});

describe('facetView', () => {
  const counts = [
    { value: 'IPSL-CM6A-LR', count: 25 },
    { value: 'CNRM-ESM2-1', count: 15 },
    { value: 'CNRM-CM6-1', count: 13 }
  ];

  it('lists ticked values first, with 0 when no row has them any more', () => {
    const view = facetView('source_id', counts, ['MIROC6', 'CNRM-CM6-1']);
    expect(view.values.map(v => [v.label, v.count, v.selected])).toEqual([
      ['MIROC6', 0, true],
      ['CNRM-CM6-1', 13, true],
      ['IPSL-CM6A-LR', 25, false],
      ['CNRM-ESM2-1', 15, false]
    ]);
    expect(view.filterable).toBe(false);
  });

  it('filters by a case-insensitive substring and says how many it leaves out', () => {
    const view = facetView('source_id', counts, [], 'cnrm', 1);
    expect(view.values.map(v => v.label)).toEqual(['CNRM-ESM2-1']);
    expect(view.hidden).toBe(1);
  });

  it('offers a filter box beyond the threshold', () => {
    const many = Array.from({ length: FILTER_THRESHOLD + 1 }, (_, i) => ({
      value: `v${i}`,
      count: 1
    }));
    expect(facetView('c', many, []).filterable).toBe(true);
  });
});

describe('datasetCode', () => {
  it('searches the dataset by its grouping values and shows it', () => {
    const dataset = {
      key: 'SYNTH-1.netcdf4',
      attributes: { source_id: 'SYNTH-1', storage: 'netcdf4' }
    };
    expect(datasetQuery({ variable_id: ['tas'] }, dataset)).toEqual({
      variable_id: ['tas'],
      source_id: 'SYNTH-1',
      storage: 'netcdf4'
    });
    const code = datasetCode({
      catalog: '/data/demo-esm.json',
      collection,
      selection: { variable_id: ['tas'] },
      dataset,
      record: {
        access: [{ url: '/data/tas.nc', protocol: 'file', service: 'netcdf' }]
      }
    });
    expect(code).toBe(
      [
        'import intake',
        '',
        'cat = intake.open_esm_datastore("/data/demo-esm.json")',
        'subset = cat.search(',
        '    variable_id=["tas"],',
        '    source_id="SYNTH-1",',
        '    storage="netcdf4",',
        ')',
        'dsets = subset.to_dataset_dict(xarray_open_kwargs={"engine": "h5netcdf"})',
        'ds = dsets["SYNTH-1.netcdf4"]',
        'ds',
        ''
      ].join('\n')
    );
  });

  it('leaves the engine to intake-esm for Zarr stores', () => {
    const code = datasetCode({
      catalog: 'c.json',
      collection,
      selection: {},
      dataset: { key: 'k', attributes: { storage: 'zarr-v2' } },
      record: {
        access: [{ url: 'file:///d/t.zarr', protocol: 'zarr', service: 'zarr' }]
      }
    });
    expect(code).toContain('dsets = subset.to_dataset_dict()\n');
  });
});

describe('previewPath', () => {
  it('makes a file:// URL a path and keeps plain paths', () => {
    expect(
      previewPath({
        access: [{ url: 'file:///d/a%20b.zarr', protocol: 'zarr' }]
      })
    ).toBe('/d/a b.zarr');
    expect(
      previewPath({ access: [{ url: '/d/t.nc', protocol: 'file' }] })
    ).toBe('/d/t.nc');
  });

  it('has nothing to preview for remote URLs', () => {
    expect(
      previewPath({ access: [{ url: 'https://h/t.nc', protocol: 'http' }] })
    ).toBeNull();
  });
});

describe('failureView', () => {
  it("gives the server's own sentence for an API error", () => {
    const error = new ApiError({
      status: 422,
      error: 'invalid-catalog',
      detail: 'bad.json: its catalog_file does not exist.',
      url: 'u'
    });
    expect(failureView('Loading failed.', error, trans)).toEqual({
      title: 'Loading failed.',
      detail: 'bad.json: its catalog_file does not exist.'
    });
  });
});

describe('filesRoute', () => {
  const roots = [{ id: 'demo-data', path: '/srv/demo/data/' }];

  it('serves a file in a data root by the root id', () => {
    expect(filesRoute('/srv/demo/data/a b/x.json', roots, '/srv/demo')).toBe(
      'espri-vre/api/data/files/%40demo-data/a%20b/x.json'
    );
  });

  it('serves a file under the server root by its relative path', () => {
    expect(
      filesRoute('/srv/demo/catalogs/stac/catalog.json', roots, '/srv/demo')
    ).toBe('espri-vre/api/data/files/catalogs/stac/catalog.json');
  });

  it('serves nothing outside both, nor a sibling with the same prefix', () => {
    expect(filesRoute('/etc/passwd', roots, '/srv/demo')).toBeNull();
    expect(filesRoute('/srv/demo2/x.json', [], '/srv/demo')).toBeNull();
  });

  it('knows a server path from a URL', () => {
    expect(isServerPath('/srv/catalog.json')).toBe(true);
    expect(isServerPath('https://stac.example.org/')).toBe(false);
  });
});
