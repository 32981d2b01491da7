import type { DatasetReference } from '@espri-vre/core';
import { describe, expect, it } from 'vitest';
import { previewChoice, previewSource, sourceName } from '../src/sources';

/** Which access of a catalogue's dataset the previewer reads. */
function dataset(access: DatasetReference['access']): DatasetReference {
  return {
    id: 'd',
    title: 'd',
    source: { catalog_id: 'c', kind: 'thredds' },
    identifiers: {},
    access
  };
}

const FILE_SERVER =
  'https://thredds.example.org/thredds/fileServer/cmip6/tas_Amon_gr_185001-201412.nc';

describe('previewChoice', () => {
  it('reads an HTTPServer file through the server, naming the service', () => {
    const choice = previewChoice(
      dataset([
        {
          url: FILE_SERVER.replace('fileServer', 'dodsC'),
          protocol: 'opendap'
        },
        {
          url: FILE_SERVER,
          protocol: 'http',
          description: 'HTTPServer',
          media_type: 'application/x-netcdf'
        }
      ])
    );
    expect(choice?.source).toEqual({
      kind: 'remote',
      url: FILE_SERVER,
      service: 'HTTPServer'
    });
    expect(choice?.access.map(a => a.url)).toEqual([FILE_SERVER]);
  });

  it('combines several NetCDF files of one dataset, on the server or remote', () => {
    const paths = ['/bdd/a_185001-189912.nc', '/bdd/a_190001-194912.nc'];
    expect(
      previewSource(dataset(paths.map(url => ({ url, protocol: 'file' }))))
    ).toEqual({ kind: 'files', locations: paths });
    const urls = paths.map(p => `https://data.example.org${p}`);
    expect(
      previewSource(dataset(urls.map(url => ({ url, protocol: 'http' }))))
    ).toEqual({ kind: 'files', locations: urls });
  });

  it('prefers a Zarr store, then the server copy, and refuses what it cannot read', () => {
    const zarr = {
      url: 'https://s3.example.org/tas.zarr',
      protocol: 'zarr' as const
    };
    const copy = { url: '/bdd/tas.nc', protocol: 'file' as const };
    const http = { url: FILE_SERVER, protocol: 'http' as const };
    expect(previewSource(dataset([http, copy, zarr]))?.kind).toBe('zarr-url');
    expect(previewSource(dataset([http, copy]))).toEqual({
      kind: 'path',
      path: '/bdd/tas.nc'
    });
    // A web page and a text file over HTTP are not NetCDF.
    expect(
      previewSource(
        dataset([
          { url: 'https://example.org/about.html', protocol: 'http' },
          {
            url: 'https://example.org/x.nc',
            protocol: 'http',
            media_type: 'text/html'
          }
        ])
      )
    ).toBeNull();
  });

  it('names a source by its path, URL or first file', () => {
    expect(sourceName({ kind: 'files', locations: ['/a.nc', '/b.nc'] })).toBe(
      '/a.nc'
    );
    expect(sourceName({ kind: 'remote', url: FILE_SERVER })).toBe(FILE_SERVER);
  });
});
