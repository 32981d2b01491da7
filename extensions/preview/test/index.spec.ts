// @vitest-environment jsdom
import type { DatasetReference } from '@espri-vre/core';
import { describe, expect, it } from 'vitest';
import { hasPreviewExtension, previewSource } from '../src/sources';

function dataset(access: DatasetReference['access']): DatasetReference {
  return {
    id: 'd',
    title: 'd',
    source: { catalog_id: 'c', kind: 'stac' },
    identifiers: {},
    access
  };
}

describe('what can be previewed', () => {
  it('offers "Preview" on the data file names and Zarr folders only', () => {
    expect(hasPreviewExtension('data/tas.NC')).toBe(true);
    expect(hasPreviewExtension('store.zarr/')).toBe(true);
    expect(hasPreviewExtension('t.feather')).toBe(true);
    expect(hasPreviewExtension('notes.txt')).toBe(false);
    expect(hasPreviewExtension('nc')).toBe(false);
  });

  it('previews a catalogue dataset from its Zarr URL or its file in a data root', () => {
    expect(
      previewSource(
        dataset([
          { url: 'https://thredds.example/dodsC/x.nc', protocol: 'opendap' },
          { url: 'https://s3.example/bucket/x.zarr', protocol: 'zarr' }
        ])
      )
    ).toEqual({ kind: 'zarr-url', url: 'https://s3.example/bucket/x.zarr' });
    expect(
      previewSource(dataset([{ url: '/bdd/CMIP6/tas.nc', protocol: 'file' }]))
    ).toEqual({ kind: 'path', path: '/bdd/CMIP6/tas.nc' });
    expect(
      previewSource(dataset([{ url: 'https://x/wms', protocol: 'wms' }]))
    ).toBeNull();
  });
});
