import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProvenanceEvent } from '../src/events.generated';
import {
  buildGraph,
  buildTimeline,
  environmentSummary,
  firstLine,
  kernelRun,
  metadataUpdate,
  replayProgress
} from '../src/model';

const ROOT = path.resolve(__dirname, '../../..');
const PYTHON = path.join(ROOT, '.venv/bin/python');

/**
 * The cells of the recorded notebook: a write, a read and a write, a read of the second
 * file, a failing cell, a pause, a cell not recorded, a resume.
 */
const CELLS = [
  '%load_ext espri_vre',
  "open('a.txt', 'w').write('1')",
  "x = open('a.txt').read()\nopen('b.txt', 'w').write(x * 2)",
  "print(open('b.txt').read())",
  '1 / 0',
  '%provenance pause',
  "open('c.txt', 'w').write('not recorded')",
  '%provenance resume',
  'y = 2'
];

/** Runs the cells in a real kernel (jupyter_client) that records; returns the log's path. */
const RECORD = `
import json, sys
from pathlib import Path
import nbformat
from espri_vre.provenance.replay import fresh_kernel
work = Path(sys.argv[1])
cells = json.loads(sys.argv[2])
nb = nbformat.v4.new_notebook()
nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
notebook = work / "study.ipynb"
nbformat.write(nb, notebook)
with fresh_kernel(work, JPY_SESSION_NAME=str(notebook)) as kernel:
    for cell in nb.cells:
        kernel.run(cell.source, cell.id, timeout=60)
print(json.dumps([c.id for c in nb.cells]))
`;

const HAVE_PYTHON = existsSync(PYTHON);
let work = '';
let events: ProvenanceEvent[] = [];
let cellIds: string[] = [];

describe.skipIf(!HAVE_PYTHON)(
  'a log recorded by a real kernel (skipped without .venv: run npm run setup)',
  () => {
    beforeAll(() => {
      work = mkdtempSync(path.join(tmpdir(), 'espri-vre-prov-'));
      const out = execFileSync(
        PYTHON,
        ['-c', RECORD, work, JSON.stringify(CELLS)],
        {
          encoding: 'utf-8',
          timeout: 120_000
        }
      );
      cellIds = JSON.parse(out.trim().split('\n').pop() ?? '[]');
      const folder = path.join(work, '.espri-vre-provenance', 'study');
      const [log] = readdirSync(folder).filter(n => n.endsWith('.jsonl'));
      events = readFileSync(path.join(folder, log), 'utf-8')
        .trim()
        .split('\n')
        .map(line => JSON.parse(line) as ProvenanceEvent);
    }, 180_000);

    afterAll(() => {
      if (work) {
        rmSync(work, { recursive: true, force: true });
      }
    });

    it('gives every recorded execution in order with its source and status', () => {
      const timeline = buildTimeline(events);

      const shown = timeline.executions.map(e => [e.order, e.cellId, e.status]);
      // the %load_ext cell ran before recording started; the pause takes effect after its
      // cell, the resume from the next one: the two cells between are not there
      expect(shown).toEqual([
        [1, cellIds[1], 'ok'],
        [2, cellIds[2], 'ok'],
        [3, cellIds[3], 'ok'],
        [4, cellIds[4], 'error'],
        [5, cellIds[5], 'ok'],
        [6, cellIds[8], 'ok']
      ]);
      expect(timeline.executions[0].source).toBe(CELLS[1]);
      expect(timeline.executions[3].error).toBe(
        'ZeroDivisionError: division by zero'
      );
      expect(timeline.controls.map(c => [c.action, c.after])).toEqual([
        ['pause', 5],
        ['resume', 5],
        ['end', 6]
      ]);
    });

    it('links each read to the cell that wrote the file', () => {
      const timeline = buildTimeline(events);
      const [, second, third] = timeline.executions;
      const files = (e: (typeof timeline.executions)[number]): string[] =>
        e.files.map(
          f =>
            `${f.op} ${path.basename(f.location)} <${f.writtenBy}> >${f.readBy}<`
        );

      expect(files(timeline.executions[0])).toEqual(['write a.txt <> >2<']);
      expect(files(second)).toEqual([
        'read a.txt <1> ><',
        'write b.txt <> >3<'
      ]);
      expect(files(third)).toEqual(['read b.txt <2> ><']);
      expect(second.files[0].hash).toMatch(/^[0-9a-f]{64}$/);
      expect(second.files[0].size).toBe(1);
    });

    it('draws the graph: cells, files, read and write edges, and cell-to-cell flows', () => {
      const graph = buildGraph(buildTimeline(events));

      expect(graph.cells).toHaveLength(6);
      expect(graph.files.map(f => [f.name, f.input, f.output])).toEqual([
        ['a.txt', false, true],
        ['b.txt', false, true]
      ]);
      const a = graph.files[0].location;
      expect(graph.edges).toContainEqual({
        from: 'cell:1',
        to: `file:${a}`,
        kind: 'write'
      });
      expect(graph.edges).toContainEqual({
        from: `file:${a}`,
        to: 'cell:2',
        kind: 'read'
      });
      expect(
        graph.flows.map(f => [f.from, f.to, path.basename(f.file)])
      ).toEqual([
        [1, 2, 'a.txt'],
        [2, 3, 'b.txt']
      ]);
      expect(graph.cells[1].label).toBe("x = open('a.txt').read()");
    });

    it('summarises the environment from the session record', () => {
      const summary = environmentSummary(buildTimeline(events).session);

      expect(summary?.python).toMatch(/^CPython 3\.\d+\.\d+$/);
      expect(summary?.packages).toBeGreaterThan(50);
    });

    it("finds the kernel's run by the kernel id the session recorded", () => {
      const session = buildTimeline(events).session;
      const kernelId = session?.kernel.id ?? null;
      expect(kernelId).toMatch(/^[0-9a-f-]{36}$/);
      const run = {
        run: events[0].run,
        log: 'x',
        state: 'ended' as const,
        kernel_id: kernelId,
        events: events.length,
        last_hash: 'f'.repeat(64),
        torn_bytes: 0,
        problems: [],
        modified: 0
      };

      expect(kernelRun([run], kernelId)).toEqual({ state: 'off', run });
      expect(kernelRun([{ ...run, state: 'paused' }], kernelId).state).toBe(
        'paused'
      );
      expect(kernelRun([run], 'another-kernel')).toEqual({
        state: 'off',
        run: null
      });
    });
  }
);

describe('metadata and progress', () => {
  it('writes the run id and last hash only when they changed', () => {
    const run = { run: 'r1', last_hash: 'a'.repeat(64) };

    expect(metadataUpdate(undefined, run)).toEqual(run);
    expect(metadataUpdate({ ...run }, run)).toBeNull();
    expect(metadataUpdate({ run: 'r1', last_hash: 'b' }, run)).toEqual(run);
    expect(metadataUpdate({ ...run }, null)).toBeNull();
  });

  it('shortens labels and counts progress', () => {
    expect(firstLine('\n\n  import xarray as xr\nx = 1')).toBe(
      '  import xarray as xr'
    );
    expect(firstLine('a'.repeat(60), 10)).toBe('aaaaaaaaa…');
    const job = {
      id: 'x',
      target: 't',
      report_dir: 'r',
      state: 'running' as const,
      done: 1,
      total: 4,
      current: null,
      error: null,
      report: null
    };
    expect(replayProgress(job)).toBe(25);
    expect(replayProgress({ ...job, state: 'done' })).toBe(100);
    expect(replayProgress({ ...job, total: 0 })).toBe(0);
  });
});
