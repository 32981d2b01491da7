import { describe, expect, it } from 'vitest';
import {
  axisRole,
  dataVariables,
  findAxes,
  mapDims,
  type VariableInfo,
  variablesFromReferences
} from '../src/axes';

function variable(name: string, dims: string[], attrs = {}): VariableInfo {
  return {
    name,
    dims,
    shape: dims.map(() => 4),
    chunks: dims.map(() => 4),
    dtype: 'float32',
    attrs,
    fillValue: null
  };
}

describe('axisRole', () => {
  it('reads axis, standard_name and CF units', () => {
    expect(axisRole('y', { axis: 'Y' })).toBe('lat');
    expect(axisRole('nav_lat', { units: 'degrees_north' })).toBe('lat');
    expect(axisRole('rlon', { standard_name: 'longitude' })).toBe('lon');
    expect(axisRole('x', { units: 'degree_east' })).toBe('lon');
    expect(axisRole('t', { units: 'hours since 1850-01-01' })).toBe('time');
    expect(axisRole('plev', { units: 'Pa', axis: 'Z' })).toBeNull();
  });

  it('falls back on plain dimension names when there are no attributes', () => {
    expect(axisRole('latitude', {})).toBe('lat');
    expect(axisRole('lon', {})).toBe('lon');
    expect(axisRole('time', {})).toBe('time');
    expect(axisRole('member', {})).toBeNull();
  });
});

describe('findAxes and mapDims', () => {
  const vars = [
    variable('ta', ['time', 'plev', 'j', 'i']),
    variable('time', ['time'], { axis: 'T' }),
    variable('plev', ['plev'], { axis: 'Z' }),
    variable('j', ['j'], { units: 'degrees_north' }),
    variable('i', ['i'], { units: 'degrees_east' })
  ];

  it('finds lat/lon/time from the coordinate variables of the dimensions', () => {
    expect(findAxes(vars[0], vars)).toEqual({
      lat: 'j',
      lon: 'i',
      time: 'time'
    });
    expect(mapDims(vars[0], findAxes(vars[0], vars))).toEqual(['j', 'i']);
  });

  it('maps the last two dimensions when no latitude/longitude is found', () => {
    const v = variable('x', ['a', 'b', 'c']);
    expect(mapDims(v, findAxes(v, [v]))).toEqual(['b', 'c']);
    expect(
      mapDims(variable('s', ['a']), { lat: null, lon: null, time: null })
    ).toBeNull();
  });
});

describe('variablesFromReferences', () => {
  it('lists the arrays of a kerchunk spec with their dims and fill values, bounds excluded from maps', () => {
    const refs = {
      '.zgroup': '{"zarr_format":2}',
      'tas/.zarray':
        '{"shape":[2,3,4],"chunks":[1,3,4],"dtype":"<f4","fill_value":1e20,"zarr_format":2}',
      'tas/.zattrs': '{"_ARRAY_DIMENSIONS":["time","lat","lon"],"units":"K"}',
      'lat/.zarray':
        '{"shape":[3],"chunks":[3],"dtype":"<f8","fill_value":null}',
      'lat/.zattrs': '{"_ARRAY_DIMENSIONS":["lat"],"bounds":"lat_bnds"}',
      'lat_bnds/.zarray':
        '{"shape":[3,2],"chunks":[3,2],"dtype":"<f8","fill_value":null}',
      'lat_bnds/.zattrs': '{"_ARRAY_DIMENSIONS":["lat","bnds"]}',
      'tas/0.0.0': [null, 100, 48]
    };
    const vars = variablesFromReferences(refs);
    expect(vars.map(v => [v.name, v.dims, v.shape, v.fillValue])).toEqual([
      ['lat', ['lat'], [3], null],
      ['lat_bnds', ['lat', 'bnds'], [3, 2], null],
      ['tas', ['time', 'lat', 'lon'], [2, 3, 4], 1e20]
    ]);
    expect(vars[2].attrs).toEqual({ units: 'K' });
    expect(dataVariables(vars).map(v => v.name)).toEqual(['tas']);
  });

  it('puts the variable a file is about before its coordinates and cell measures', () => {
    const vars = [
      variable('area', ['y', 'x']),
      variable('bounds_nav_lat', ['y', 'x', 'nvertex']),
      variable('co3', ['time', 'deptht', 'y', 'x'], {
        coordinates: 'nav_lat nav_lon',
        cell_measures: 'area: area'
      }),
      variable('nav_lat', ['y', 'x'], { bounds: 'bounds_nav_lat' }),
      variable('nav_lon', ['y', 'x']),
      variable('zos', ['time', 'y', 'x'])
    ];
    expect(dataVariables(vars).map(v => v.name)).toEqual([
      'co3',
      'zos',
      'area',
      'nav_lat',
      'nav_lon'
    ]);
  });
});
