import { describe, expect, it } from 'vitest';
import { recordCode } from '../../src/browser/code';
import { emptyRecord, type RecordAccessUrl } from '../../src/record';

function withAccess(access: RecordAccessUrl[], parent?: string) {
  const record = emptyRecord('r', 'R', 'c', 'thredds');
  record.access = access;
  if (parent !== undefined) {
    record.parent_id = parent;
  }
  return record;
}

describe('the code that opens a remote record', () => {
  it('prefers OPeNDAP, without the .html of its form page', () => {
    const record = withAccess([
      {
        url: 'https://tds/fileServer/a.nc',
        protocol: 'http',
        media_type: 'application/netcdf'
      },
      { url: 'https://tds/dodsC/a.nc.html', protocol: 'opendap' }
    ]);
    expect(recordCode(record, { kind: 'thredds' })).toEqual({
      code: 'import xarray as xr\n\nds = xr.open_dataset("https://tds/dodsC/a.nc")\nds\n'
    });
  });

  it('reads an HTTP NetCDF file by byte ranges and a Zarr store with open_zarr', () => {
    expect(
      recordCode(withAccess([{ url: 'https://h/a.nc', protocol: 'http' }]), {
        kind: 'csw'
      })
    ).toEqual({
      code: 'import xarray as xr\n\nds = xr.open_dataset("https://h/a.nc#mode=bytes")\nds\n'
    });
    expect(
      recordCode(withAccess([{ url: 's3://b/x.zarr', protocol: 'zarr' }]), {
        kind: 'csw'
      })
    ).toEqual({
      code: 'import xarray as xr\n\nds = xr.open_zarr("s3://b/x.zarr")\nds\n'
    });
  });

  it('opens the files of an ESGF dataset together once they are listed', () => {
    const dataset = withAccess([]);
    expect(recordCode(dataset, { kind: 'esgf' })).toHaveProperty('reason');
    const files = ['x_1.nc', 'x_2.nc'].map(name =>
      withAccess([{ url: `https://n/dodsC/${name}`, protocol: 'opendap' }], 'd')
    );
    expect(recordCode(dataset, { kind: 'esgf', files })).toEqual({
      code:
        'import xarray as xr\n\nds = xr.open_mfdataset(\n' +
        '    ["https://n/dodsC/x_1.nc", "https://n/dodsC/x_2.nc"],\n' +
        '    combine="by_coords",\n)\nds\n'
    });
  });

  it('escapes what a catalogue puts in URLs and ids', () => {
    const record = withAccess([
      { url: 'https://h/a".nc\\', protocol: 'opendap' }
    ]);
    const result = recordCode(record, { kind: 'thredds' });
    expect('code' in result && result.code).toContain(
      'xr.open_dataset("https://h/a\\".nc\\\\")'
    );
  });

  it('says why when nothing can be opened', () => {
    expect(
      recordCode(withAccess([{ url: 'https://h/page', protocol: 'other' }]), {
        kind: 'csw'
      })
    ).toEqual({
      reason:
        'This record has no OPeNDAP, NetCDF or Zarr URL that xarray could open.'
    });
  });
});
