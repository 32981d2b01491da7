/**
 * Where the recorded catalogue answers live: `<repo>/../shared/fixtures/catalog`,
 * outside the repository. Fixture tests skip when that folder is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export const REPO = path.resolve(here, '../../../..');
export const FIXTURES = path.resolve(REPO, '../shared/fixtures/catalog');
export const HAVE_FIXTURES = existsSync(FIXTURES);

if (!HAVE_FIXTURES) {
  console.warn(
    `../shared is absent (no ${FIXTURES}): the catalogue fixture tests are skipped`
  );
}

/** A describe title that says why it may be skipped. */
export function withFixtures(title: string): string {
  return HAVE_FIXTURES ? title : `${title} (skipped: ../shared is absent)`;
}

export function fixturePath(name: string): string {
  return path.join(FIXTURES, name);
}

export function readFixture(name: string): string {
  return readFileSync(fixturePath(name), 'utf-8');
}
