import { describe, expect, it } from 'vitest';

import {
  CatalogParseError,
  DatasetRecord,
  emptyRecord,
  findDoi,
  formatCitation,
  guessProtocol,
  normaliseDoi,
  normalisePid,
  parseJsonObject,
  safeUrl,
  setDefined,
  toBytes,
  toDatasetReference,
  unionBBox
} from '../../src/record';

describe('normaliseDoi', () => {
  it('reads the usual ways of writing a DOI', () => {
    for (const text of [
      '10.22033/ESGF/CMIP6.1534',
      'doi:10.22033/ESGF/CMIP6.1534',
      'urn:doi:10.22033/ESGF/CMIP6.1534',
      'https://doi.org/10.22033/ESGF/CMIP6.1534',
      'http://dx.doi.org/10.22033%2FESGF%2FCMIP6.1534',
      ' info:doi/10.22033/ESGF/CMIP6.1534 '
    ]) {
      expect(normaliseDoi(text)).toBe('10.22033/ESGF/CMIP6.1534');
    }
  });

  it('does not take a URL that merely contains 10. for a DOI', () => {
    expect(normaliseDoi('https://example.org/data/10.1234/x')).toBeUndefined();
    expect(normaliseDoi('urn:uuid:19887a8a')).toBeUndefined();
  });

  it('finds a DOI in free text', () => {
    expect(
      findDoi('Please cite Doe et al. (2020), doi:10.5194/essd-12-345-2020.')
    ).toBe('10.5194/essd-12-345-2020');
    expect(findDoi('see https://doi.org/10.1594/PANGAEA.123456)')).toBe(
      '10.1594/PANGAEA.123456'
    );
  });
});

describe('normalisePid', () => {
  it('writes handles as hdl:prefix/suffix', () => {
    expect(
      normalisePid('hdl:21.14100/be3a1612-4db6-338c-a4eb-f40b2cccade3')
    ).toBe('hdl:21.14100/be3a1612-4db6-338c-a4eb-f40b2cccade3');
    expect(normalisePid('http://hdl.handle.net/hdl:21.14100/be3a1612')).toBe(
      'hdl:21.14100/be3a1612'
    );
    expect(normalisePid('https://hdl.handle.net/21.14100/be3a1612')).toBe(
      'hdl:21.14100/be3a1612'
    );
    expect(normalisePid('not a handle')).toBeUndefined();
  });
});

describe('safeUrl', () => {
  it('resolves relative hrefs and keeps data-transfer schemes', () => {
    expect(safeUrl('../b/c.json', 'https://stac.example/a/catalog.json')).toBe(
      'https://stac.example/b/c.json'
    );
    expect(safeUrl('s3://bucket/key.nc')).toBe('s3://bucket/key.nc');
    expect(safeUrl('globus:dea29ae8/css03_data/x.nc')).toBe(
      'globus:dea29ae8/css03_data/x.nc'
    );
  });

  it('refuses script, data and malformed URLs', () => {
    expect(safeUrl('javascript:alert(1)')).toBeUndefined();
    expect(
      safeUrl('JavaScript:alert(1)', 'https://a.example/')
    ).toBeUndefined();
    expect(safeUrl('data:text/html,<script>alert(1)</script>')).toBeUndefined();
    expect(safeUrl('https://a.example/\u0000x')).toBeUndefined();
    expect(safeUrl('no scheme')).toBeUndefined();
  });
});

describe('setDefined', () => {
  const record = (): DatasetRecord => emptyRecord('tas', 'tas', 'demo', 'stac');

  it('keeps only the defined fields', () => {
    const filled = record();
    setDefined(filled, 'temporal', { start: '2015-01-01', end: undefined });
    expect(filled.temporal).toStrictEqual({ start: '2015-01-01' });
  });

  it('leaves the part unset when no field is defined', () => {
    const empty = record();
    setDefined(empty, 'dates', { created: undefined, modified: undefined });
    expect('dates' in empty).toBe(false);
  });
});

describe('toBytes', () => {
  it('uses decimal multiples, as THREDDS does', () => {
    expect(toBytes(311.1, 'Mbytes')).toBe(311100000);
    expect(toBytes(60.92, 'Kbytes')).toBe(60920);
    expect(toBytes(3, 'bytes')).toBe(3);
    expect(toBytes(1, 'furlongs')).toBeUndefined();
  });
});

describe('guessProtocol', () => {
  it('reads service names, media types and URLs', () => {
    expect(
      guessProtocol({ url: 'https://a/dodsC/x.nc', service: 'OPENDAP' })
    ).toBe('opendap');
    expect(
      guessProtocol({ url: 'https://a/x.nc', service: 'HTTPServer' })
    ).toBe('http');
    expect(
      guessProtocol({ url: 'https://a/ncss/x.nc', service: 'NetcdfSubset' })
    ).toBe('ncss');
    expect(guessProtocol({ url: 'https://a/wms', service: 'OGC:WMS' })).toBe(
      'wms'
    );
    expect(guessProtocol({ url: 'https://a/x.zarr' })).toBe('zarr');
    expect(
      guessProtocol({ url: 'https://a/x', mediaType: 'application/vnd+zarr' })
    ).toBe('zarr');
    expect(guessProtocol({ url: 'gsiftp://a/x', service: 'GridFTP' })).toBe(
      'other'
    );
    expect(
      guessProtocol({ url: 'https://a/', service: 'WWW:LINK-1.0-http--link' })
    ).toBe('other');
  });
});

describe('unionBBox', () => {
  it('covers all boxes, or keeps the first when one crosses the antimeridian', () => {
    expect(
      unionBBox([
        [0, 0, 10, 10],
        [-5, 5, 5, 20]
      ])
    ).toEqual([-5, 0, 10, 20]);
    expect(
      unionBBox([
        [170, 0, -170, 10],
        [0, 0, 1, 1]
      ])
    ).toEqual([170, 0, -170, 10]);
    expect(unionBBox([])).toBeUndefined();
  });
});

describe('formatCitation', () => {
  it('writes creators, year, title, version, publisher and identifier', () => {
    expect(
      formatCitation({
        creators: ['IPSL'],
        year: '2018',
        title:
          'IPSL IPSL-CM6A-LR model output prepared for CMIP6 CMIP historical.',
        version: '20180803',
        publisher: 'Earth System Grid Federation',
        url: 'https://doi.org/10.22033/ESGF/CMIP6.5195'
      })
    ).toBe(
      'IPSL (2018): IPSL IPSL-CM6A-LR model output prepared for CMIP6 CMIP historical. Version 20180803. ' +
        'Earth System Grid Federation. https://doi.org/10.22033/ESGF/CMIP6.5195'
    );
    expect(formatCitation({ title: 'Untitled' })).toBe('Untitled.');
  });
});

describe('parseJsonObject', () => {
  it('reads JSON text and parsed objects alike', () => {
    expect(parseJsonObject('{"a": 1}', 'x')).toEqual({ a: 1 });
    expect(parseJsonObject({ a: 1 }, 'x')).toEqual({ a: 1 });
  });

  it('names the source and the problem', () => {
    const error = (() => {
      try {
        parseJsonObject('{"a": ', 'STAC item https://a.example/i.json');
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(CatalogParseError);
    expect((error as CatalogParseError).source).toBe(
      'STAC item https://a.example/i.json'
    );
    expect((error as CatalogParseError).message).toMatch(
      /^Cannot read STAC item https:\/\/a.example\/i.json: malformed JSON/
    );
    expect(() => parseJsonObject('', 'x')).toThrow(
      'Cannot read x: the response is empty'
    );
    expect(() => parseJsonObject('null', 'x')).toThrow(
      'Cannot read x: expected a JSON object but got null'
    );
    expect(() => parseJsonObject('"text"', 'x')).toThrow(
      'Cannot read x: expected a JSON object but got string'
    );
  });
});

describe('toDatasetReference', () => {
  it('carries identifiers and version over, and only openable access URLs', () => {
    const record: DatasetRecord = {
      id: 'a|node',
      title: 'a',
      source: { catalog_id: 'c', kind: 'esgf' },
      facets: { source_id: ['IPSL-CM6A-LR'] },
      variables: [],
      access: [
        { url: 'https://n/dodsC/a.nc', protocol: 'opendap' },
        { url: 'globus:e/a.nc', protocol: 'globus' },
        {
          url: 'https://n/fileServer/a.nc',
          protocol: 'http',
          media_type: 'application/netcdf',
          size: 10
        }
      ],
      size: 10,
      version: 'v1',
      identifiers: { pid: 'hdl:1/2', master_id: 'a', tracking_ids: ['hdl:1/3'] }
    };
    expect(toDatasetReference(record)).toEqual({
      id: 'a|node',
      title: 'a',
      source: { catalog_id: 'c', kind: 'esgf' },
      identifiers: { pid: 'hdl:1/2', tracking_ids: ['hdl:1/3'], version: 'v1' },
      access: [
        { url: 'https://n/dodsC/a.nc', protocol: 'opendap' },
        {
          url: 'https://n/fileServer/a.nc',
          protocol: 'http',
          media_type: 'application/netcdf'
        }
      ],
      size: 10,
      media_type: 'application/netcdf'
    });
  });
});
