import { describe, expect, it } from 'vitest';
import { loadBasemap } from '../src/coastlines';

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
