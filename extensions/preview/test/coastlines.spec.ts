import { describe, expect, it } from 'vitest';
import { loadBasemap, overlayPaths } from '../src/coastlines';
import { mapFrame } from '../src/projection';

/** The nearest vertex of some lines to a place, in degrees (longitude scaled by cos lat). */
function nearest(lines: number[][][], lon: number, lat: number): number {
  const c = Math.cos((lat * Math.PI) / 180);
  let best = Infinity;
  for (const line of lines) {
    for (const [x, y] of line) {
      best = Math.min(best, Math.hypot((x - lon) * c, y - lat));
    }
  }
  return best;
}

describe('the bundled Natural Earth lines (world-atlas 1:50m)', () => {
  it('has the coast of the Strait of Gibraltar and the border of Spain and France', async () => {
    const basemap = await loadBasemap();
    // The Rock of Gibraltar and Cape Agulhas on the coastlines.
    expect(nearest(basemap.coastlines.coordinates, -5.35, 36.14)).toBeLessThan(
      0.05
    );
    expect(nearest(basemap.coastlines.coordinates, 20.0, -34.83)).toBeLessThan(
      0.1
    );
    // Mid-Atlantic is far from any coast.
    expect(nearest(basemap.coastlines.coordinates, -40, 40)).toBeGreaterThan(5);
    // The Pyrenees (Spain–France) are a border, not a coast; open sea is neither.
    expect(nearest(basemap.borders.coordinates, 0.0, 42.7)).toBeLessThan(0.2);
    expect(nearest(basemap.borders.coordinates, -40, 40)).toBeGreaterThan(5);
    // Loaded once: the same lines the second time.
    expect(await loadBasemap()).toBe(basemap);
  });
});

/** The vertices of SVG path data (d3's M/L commands), as [x, y] pairs. */
function vertices(d: string): [number, number][] {
  return [...d.matchAll(/[ML](-?[\d.e-]+),(-?[\d.e-]+)/g)].map(m => [
    Number(m[1]),
    Number(m[2])
  ]);
}

describe("the overlay's lines on a canvas", () => {
  const globe = { west: -180, east: 180, south: -90, north: 90 };

  it('are projected once per view and canvas size, not per time step', async () => {
    const basemap = await loadBasemap();
    const frame = mapFrame('latlon', globe, '-180..180');
    const first = overlayPaths(frame, 900, 450, basemap);
    // A new time step draws with the same view: the same projected lines.
    expect(overlayPaths(frame, 900, 450, basemap)).toBe(first);
    // Another size, another view or the coastlines arriving project them again.
    expect(overlayPaths(frame, 600, 300, basemap)).not.toBe(first);
    const polar = mapFrame('north-polar', globe, '-180..180');
    expect(overlayPaths(polar, 600, 600, basemap)).not.toBe(first);
    expect(overlayPaths(frame, 600, 300, null).coastlines).toBe('');
  });

  it("put the Strait of Gibraltar's coast where plate carrée puts it, the globe's outline only off plate carrée", async () => {
    const basemap = await loadBasemap();
    const frame = mapFrame('latlon', globe, '-180..180');
    const paths = overlayPaths(frame, 900, 450, basemap);
    // 900 x 450 pixels for 360 x 180 degrees: 2.5 pixels a degree from the top left.
    const [x, y] = [(-5.35 + 180) * 2.5, (90 - 36.14) * 2.5];
    const near = (d: string, px: number, py: number): number =>
      Math.min(...vertices(d).map(([a, b]) => Math.hypot(a - px, b - py)));
    expect(near(paths.coastlines, x, y)).toBeLessThan(0.5);
    // Mid-Atlantic (40°W 40°N) is 5° (12 pixels) or more from any coast.
    expect(near(paths.coastlines, 140 * 2.5, 50 * 2.5)).toBeGreaterThan(12);
    expect(paths.outline).toBe('');
    const polar = overlayPaths(
      mapFrame('north-polar', globe, '-180..180'),
      600,
      600,
      basemap
    );
    expect(vertices(polar.outline).length).toBeGreaterThan(10);
  });
});
