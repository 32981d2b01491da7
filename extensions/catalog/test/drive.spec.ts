import { nullTranslator } from '@jupyterlab/translation';
import { describe, expect, it } from 'vitest';
import { insertCodeCell, type NotebookLike } from '../src/browser/notebook';
import {
  decodeContent,
  driveName,
  type RootEntry,
  toModel
} from '../src/drive';
import {
  fileKind,
  fileReference,
  isGridded,
  openingCode
} from '../src/drive-code';

const trans = nullTranslator.load('espri_vre');

describe('fileKind', () => {
  it('knows data files by their names and Zarr stores by the listing or the name', () => {
    expect(fileKind('tas_Amon.nc', false, false)).toBe('netcdf');
    expect(fileKind('OBS.HDF5', false, false)).toBe('netcdf');
    expect(fileKind('stations.parquet', false, false)).toBe('parquet');
    expect(fileKind('stations.csv', false, false)).toBe('csv');
    expect(fileKind('stations.feather', false, false)).toBe('feather');
    expect(fileKind('tas.zarr', true, false)).toBe('zarr');
    expect(fileKind('store', true, true)).toBe('zarr');
    // A plain folder, and a file named like a store, are neither.
    expect(fileKind('CMIP6', true, false)).toBeNull();
    expect(fileKind('notes.zarr', false, false)).toBeNull();
    expect(fileKind('README.txt', false, false)).toBeNull();
    expect(isGridded('netcdf')).toBe(true);
    expect(isGridded('zarr')).toBe(true);
    expect(isGridded('csv')).toBe(false);
  });
});

describe('openingCode', () => {
  it('opens each kind with xarray or pandas, the path quoted for Python', () => {
    expect(openingCode('/bdd/CMIP6/tas.nc', 'netcdf')).toBe(
      'import xarray as xr\n\nds = xr.open_dataset("/bdd/CMIP6/tas.nc")\nds'
    );
    expect(openingCode('/bdd/x.zarr', 'zarr')).toContain(
      'xr.open_zarr("/bdd/x.zarr")'
    );
    expect(openingCode('/bdd/s.parquet', 'parquet')).toContain(
      'pd.read_parquet("/bdd/s.parquet")'
    );
    expect(openingCode('/bdd/s.csv', 'csv')).toContain('pd.read_csv(');
    expect(openingCode('/bdd/s.arrow', 'feather')).toContain(
      'pd.read_feather('
    );
    expect(openingCode('/bdd/a "quoted"\\name.nc', 'netcdf')).toContain(
      'xr.open_dataset("/bdd/a \\"quoted\\"\\\\name.nc")'
    );
    expect(openingCode('/bdd/README.txt', null)).toBeNull();
  });

  it('gives the previewer and the globe a file reference with the server path', () => {
    const ref = fileReference('bdd', '/bdd/model/tas.nc', 'netcdf');
    expect(ref.title).toBe('tas.nc');
    expect(ref.access).toEqual([
      { url: '/bdd/model/tas.nc', protocol: 'file' }
    ]);
    expect(ref.media_type).toBe('application/x-netcdf');
    expect(ref.source.catalog_id).toBe('data-root:bdd');
  });
});

describe('the drive', () => {
  it('names drives without the characters JupyterLab splits paths on', () => {
    expect(driveName('cmip6-sample')).toBe('data-cmip6-sample');
    expect(driveName('a:b/c')).toBe('data-a_b_c');
  });

  it('turns listing entries into read-only Contents models', () => {
    const entry: RootEntry = {
      name: 'tas.nc',
      path: 'model/tas.nc',
      type: 'file',
      size: 1234,
      mtime: '2026-01-02T03:04:05+00:00',
      zarr: false
    };
    expect(toModel(entry, entry.path)).toEqual({
      name: 'tas.nc',
      path: 'model/tas.nc',
      type: 'file',
      writable: false,
      created: entry.mtime,
      last_modified: entry.mtime,
      mimetype: '',
      content: null,
      format: null,
      size: 1234
    });
    const folder = toModel({ ...entry, type: 'directory', size: null }, 'm');
    expect(folder.type).toBe('directory');
    expect('size' in folder).toBe(false);
  });

  it('decodes text, JSON and base64, and refuses a binary file as text', () => {
    const bytes = new TextEncoder().encode('{"a": "é"}');
    expect(decodeContent(bytes, 'text', 'x.json', trans)).toEqual({
      content: '{"a": "é"}',
      format: 'text'
    });
    expect(decodeContent(bytes, 'json', 'x.json', trans).content).toEqual({
      a: 'é'
    });
    expect(
      decodeContent(new Uint8Array([0, 255, 1]), 'base64', 'x.png', trans)
    ).toEqual({ content: 'AP8B', format: 'base64' });
    // The first bytes of a NetCDF-4 (HDF5) file are not UTF-8.
    const hdf5 = new Uint8Array([
      0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a
    ]);
    expect(() => decodeContent(hdf5, 'text', 'tas.nc', trans)).toThrow(
      'tas.nc is not a text file: use Preview or Open in Notebook from its context menu.'
    );
  });
});

/** A notebook with the shared-model calls insertCodeCell makes, on an array. */
function notebook(sources: string[]): NotebookLike & { sources: string[] } {
  const cells = sources.map(source => ({ source }));
  return {
    id: 'nb',
    isDisposed: false,
    sources,
    content: {
      activeCellIndex: 0,
      model: {
        sharedModel: {
          get cells() {
            return cells;
          },
          insertCell: (index, cell) => {
            cells.splice(index, 0, { source: cell.source });
            sources.splice(index, 0, cell.source);
          },
          deleteCell: index => {
            cells.splice(index, 1);
            sources.splice(index, 1);
          }
        }
      }
    }
  };
}

describe('insertCodeCell', () => {
  it("replaces a new notebook's one empty cell", () => {
    const nb = notebook(['']);
    expect(insertCodeCell(nb, 'import xarray')).toBe(0);
    expect(nb.sources).toEqual(['import xarray']);
    expect(nb.content.activeCellIndex).toBe(0);
  });

  it('inserts below the active cell otherwise', () => {
    const nb = notebook(['a = 1', 'b = 2']);
    expect(insertCodeCell(nb, 'c = 3')).toBe(1);
    expect(nb.sources).toEqual(['a = 1', 'c = 3', 'b = 2']);
    const one = notebook(['x = 1']);
    insertCodeCell(one, 'y = 2');
    expect(one.sources).toEqual(['x = 1', 'y = 2']);
  });
});
