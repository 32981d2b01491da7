import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  axisRole,
  dataVariables,
  findAxes,
  findCurvilinear,
  findRotatedPole,
  mapDims,
  variablesFromReferences
} from '../src/axes';
import { curvilinearLocator } from '../src/grid-locator';
import { regridNearest, rotatedToGeographic } from '../src/regrid';
import { runPython } from './python';

/**
 * A CORDEX EUR-44-like rotated-pole file written by xarray in this run (grid latitude and
 * longitude only, no 2-D coordinates), read through kerchunk references as the preview
 * reads it; the true positions checked against pyproj's (PROJ's ob_tran).
 */
describe('a rotated-pole grid (EUR-44 pole, no 2-D latitude/longitude)', () => {
  let dir: string;
  let file: {
    refs: { refs: Record<string, unknown> };
    rlat: number[];
    rlon: number[];
    lat: number[];
    lon: number[];
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'espri-vre-rotated-'));
    file = runPython(
      `
import json, sys
from pathlib import Path
import numpy as np, pyproj, xarray as xr
from espri_vre.data.references import references_for
mapping = {"grid_mapping_name": "rotated_latitude_longitude",
           "grid_north_pole_latitude": 39.25, "grid_north_pole_longitude": -162.0}
rlat = np.arange(-23.21, 21.79, 0.44 * 8)
rlon = np.arange(-28.21, 18.3, 0.44 * 8)
ds = xr.Dataset(
    {"tas": (("time", "rlat", "rlon"), np.random.default_rng(3).normal(280, 5, (2, rlat.size, rlon.size)),
             {"units": "K", "grid_mapping": "rotated_pole"}),
     "rotated_pole": ((), 0, mapping)},
    coords={"rlat": ("rlat", rlat, {"standard_name": "grid_latitude", "units": "degrees", "axis": "Y"}),
            "rlon": ("rlon", rlon, {"standard_name": "grid_longitude", "units": "degrees", "axis": "X"}),
            "time": ("time", [0, 1], {"units": "days since 2000-01-01"})})
path = Path(sys.argv[1]) / "tas_EUR-44_rotated.nc"
ds.to_netcdf(path)
to_geo = pyproj.Transformer.from_crs(pyproj.CRS.from_cf(mapping), "EPSG:4326", always_xy=True)
lon2, lat2 = np.meshgrid(rlon, rlat)
lon, lat = to_geo.transform(lon2, lat2)
print(json.dumps({
  "refs": json.loads(references_for(path, "tas_EUR-44_rotated.nc", cache=None).body),
  "rlat": rlat.tolist(), "rlon": rlon.tolist(),
  "lat": lat.ravel().tolist(), "lon": lon.ravel().tolist()}))
`,
      [dir]
    );
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is found from its grid mapping, not taken for latitude and longitude', () => {
    const variables = variablesFromReferences(file.refs.refs);
    const tas = dataVariables(variables)[0];
    expect(tas.name).toBe('tas');
    const axes = findAxes(tas, variables);
    expect([axes.lat, axes.lon, axes.time]).toEqual([null, null, 'time']);
    expect(findCurvilinear(tas, variables)).toBeNull();
    const rotated = findRotatedPole(tas, variables)!;
    expect(rotated.pole).toEqual({ poleLat: 39.25, poleLon: -162, gridLon: 0 });
    expect([rotated.lat.name, rotated.lon.name]).toEqual(['rlat', 'rlon']);
    expect(mapDims(tas, axes, rotated)).toEqual(['rlat', 'rlon']);
    // Without its grid mapping the variable is not on a rotated pole.
    expect(findRotatedPole({ ...tas, attrs: {} }, variables)).toBeNull();
    expect(
      axisRole('rlat', { standard_name: 'grid_latitude', axis: 'Y' })
    ).toBeNull();
  });

  it('puts every cell where PROJ puts it', () => {
    const { lat, lon } = rotatedToGeographic(file.rlat, file.rlon, {
      poleLat: 39.25,
      poleLon: -162,
      gridLon: 0
    });
    expect(lat.length).toBe(file.rlat.length * file.rlon.length);
    for (let k = 0; k < lat.length; k++) {
      expect(lat[k]).toBeCloseTo(file.lat[k], 9);
      expect(lon[k]).toBeCloseTo(file.lon[k], 9);
    }
    // The rotated grid's centre is the true (18°E, 50.75°N).
    const centre = rotatedToGeographic([0], [0], {
      poleLat: 39.25,
      poleLon: -162,
      gridLon: 0
    });
    expect(centre.lon[0]).toBeCloseTo(18, 9);
    expect(centre.lat[0]).toBeCloseTo(50.75, 9);
  });

  it('is drawn as a regional map whose cells are found at their true places', () => {
    const rows = file.rlat.length;
    const cols = file.rlon.length;
    const { lat, lon } = rotatedToGeographic(file.rlat, file.rlon, {
      poleLat: 39.25,
      poleLon: -162,
      gridLon: 0
    });
    const locator = curvilinearLocator(
      lat,
      lon,
      rows,
      cols,
      regridNearest(lat, lon, rows, cols)
    );
    // Europe, not the globe.
    expect(locator.extent.west).toBeGreaterThan(-50);
    expect(locator.extent.east).toBeLessThan(80);
    expect(locator.extent.south).toBeGreaterThan(15);
    expect(locator.pixelGrid).toBeNull();
    for (const k of [
      0,
      cols - 1,
      (rows >> 1) * cols + (cols >> 1),
      rows * cols - 1
    ]) {
      expect(locator.locate(file.lon[k], file.lat[k])).toBe(k);
    }
  });
});
