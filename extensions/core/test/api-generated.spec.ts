import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script without type declarations.
import { generate, OUTPUT } from '../../../scripts/gen-api-types.mjs';

describe('api.generated.ts', () => {
  it('is what scripts/gen-api-types.mjs makes of the current API schema', async () => {
    const committed = await readFile(OUTPUT, 'utf-8');

    const expected = await generate();

    // On failure: run `npm run schema:types` and commit the result.
    expect(committed).toBe(expected);
  });

  it('declares the status payload with its three lists', async () => {
    const committed = await readFile(OUTPUT, 'utf-8');

    expect(committed).toMatch(/^\/\*\n \* This file is GENERATED/);
    expect(committed).toContain('export interface StatusResponse {');
    expect(committed).toContain('catalogs: CatalogStatus[];');
    expect(committed).toContain('data_roots: DataRootStatus[];');
  });
});
