import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DECLARATION_KEY,
  declaredVariation,
  declareTolerance,
  declareVaries,
  type IMetadataHolder
} from '../src/model';

const ROOT = path.resolve(__dirname, '../../..');
const PYTHON = path.join(ROOT, '.venv/bin/python');

/** A cell's metadata as ICellModel keeps it: a map of keys to JSON values. */
function cell(initial: Record<string, unknown> = {}): IMetadataHolder & {
  metadata: Record<string, unknown>;
} {
  const metadata: Record<string, unknown> = { ...initial };
  return {
    metadata,
    getMetadata: key => metadata[key],
    setMetadata: (key, value) => {
      metadata[key] = value;
    },
    deleteMetadata: key => delete metadata[key]
  };
}

/** What the replay (espri_vre.provenance.replay.declared) reads from this metadata. */
function replayReads(metadata: Record<string, unknown>): string {
  return execFileSync(
    PYTHON,
    [
      '-c',
      'import json, sys\n' +
        'from espri_vre.provenance.replay import declared\n' +
        'd = declared({"metadata": json.loads(sys.argv[1])}, {})\n' +
        'print(json.dumps([d.varies, d.reason] + ([d.tolerance] if d.tolerance else [])))',
      JSON.stringify(metadata)
    ],
    { encoding: 'utf-8' }
  ).trim();
}

describe('declaring that a cell varies on replay', () => {
  it('writes what the replay reads, and keeps the other keys', () => {
    const c = cell({ [DECLARATION_KEY]: { note: 'kept' }, tags: ['x'] });
    expect(declaredVariation(c)).toBeNull();
    declareVaries(c, '  an unseeded draw ');
    expect(c.metadata[DECLARATION_KEY]).toEqual({
      note: 'kept',
      replay: 'varies',
      reason: 'an unseeded draw'
    });
    expect(declaredVariation(c)).toBe('varies: an unseeded draw');
    expect(replayReads(c.metadata)).toBe('[true, "an unseeded draw"]');
    expect(c.metadata['tags']).toEqual(['x']);
  });

  it('declares without a reason, and withdraws the declaration', () => {
    const c = cell();
    declareVaries(c, '');
    expect(declaredVariation(c)).toBe('varies');
    expect(replayReads(c.metadata)).toBe('[true, null]');
    declareVaries(c, null);
    expect(DECLARATION_KEY in c.metadata).toBe(false);
    expect(replayReads(c.metadata)).toBe('[false, null]');
  });

  it('shows a tolerance declared by hand as the report does', () => {
    const c = cell({ [DECLARATION_KEY]: { replay: 'rtol=1e-3' } });
    expect(declaredVariation(c)).toBe('rtol=1e-3');
  });

  it('declares tolerances the replay reads, and refuses what it could not read', () => {
    const c = cell({ [DECLARATION_KEY]: { note: 'kept' } });
    expect(
      declareTolerance(c, ' rtol = 1e-3,atol=0 ', 'a sum whose order varies')
    ).toBeNull();
    expect(c.metadata[DECLARATION_KEY]).toEqual({
      note: 'kept',
      replay: 'rtol=0.001, atol=0',
      reason: 'a sum whose order varies'
    });
    expect(declaredVariation(c)).toBe(
      'rtol=0.001, atol=0: a sum whose order varies'
    );
    expect(replayReads(c.metadata)).toBe(
      '[false, "a sum whose order varies", {"rtol": 0.001, "atol": 0.0}]'
    );
    const before = structuredClone(c.metadata);
    for (const [text, problem] of [
      ['rtol=abc', { kind: 'unreadable', part: 'rtol=abc' }],
      ['tol=1', { kind: 'unreadable', part: 'tol=1' }],
      ['atol=-1', { kind: 'unreadable', part: 'atol=-1' }],
      ['rtol=e', { kind: 'unreadable', part: 'rtol=e' }],
      ['', { kind: 'unreadable', part: '' }],
      ['rtol=1, rtol=2', { kind: 'twice', name: 'rtol' }]
    ] as const) {
      expect(declareTolerance(c, text, 'why')).toEqual(problem);
    }
    expect(c.metadata).toEqual(before); // a refused declaration loses nothing
  });
});
