import type { DatasetReference } from '@espri-vre/core';
import type { Kernel, KernelMessage } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  kernelIdentifiers,
  kernelLocation,
  ProvenanceRecorder,
  recordDatasetExpression,
  recordedFrom
} from '../src/recorder';

const trans = nullTranslator.load('espri_vre');
const PYTHON = fileURLToPath(
  new URL('../../../.venv/bin/python', import.meta.url)
);

/** A CMIP6 dataset as the catalogue hands it over, with text that needs escaping. */
const DATASET: DatasetReference = {
  id: 'CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr.v20180803',
  title: 'tas "historical" — IPSL\\CM6A',
  source: { catalog_id: 'esgf-ipsl', kind: 'esgf' },
  identifiers: {
    doi: '10.22033/ESGF/CMIP6.5195',
    pid: 'hdl:21.14100/d1b4bc4c-1c5d-3a2e-a7c6-5b2f1e0c6d1e',
    instance_id:
      'CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr.v20180803',
    version: 'v20180803',
    tracking_ids: ['hdl:21.14100/one', 'hdl:21.14100/two']
  },
  access: [
    {
      url: 'https://esgf.example.org/thredds/dodsC/tas_é.nc',
      protocol: 'opendap'
    },
    { url: '/bdd/CMIP6/tas "x".nc', protocol: 'file' }
  ]
};

describe('what the kernel is given', () => {
  it('keeps the identifiers DatasetIdentifiers takes, and one tracking_id only when it names the dataset', () => {
    expect(kernelIdentifiers(DATASET)).toEqual({
      pid: 'hdl:21.14100/d1b4bc4c-1c5d-3a2e-a7c6-5b2f1e0c6d1e',
      doi: '10.22033/ESGF/CMIP6.5195',
      instance_id:
        'CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr.v20180803',
      version: 'v20180803'
    });
    expect(
      kernelIdentifiers({
        ...DATASET,
        identifiers: { tracking_ids: ['hdl:21.14100/one'] }
      })
    ).toEqual({ tracking_id: 'hdl:21.14100/one' });
  });

  it('prefers an absolute path on the shared file system, else the first URL', () => {
    expect(kernelLocation(DATASET)).toEqual({
      path: '/bdd/CMIP6/tas "x".nc',
      url: null
    });
    expect(
      kernelLocation({
        ...DATASET,
        access: [
          { url: 'data/relative.nc', protocol: 'file' },
          { url: 'https://example.org/store.zarr', protocol: 'zarr' }
        ]
      })
    ).toEqual({ path: null, url: 'https://example.org/store.zarr' });
    expect(kernelLocation({ ...DATASET, access: [] })).toEqual({
      path: null,
      url: null
    });
  });
});

// Vitest's report carries no skip reason, so the title says it; in `npm test` the set-up
// has made .venv, and scripts/expected-skips.json declares no skip, so a skip fails the run.
describe.skipIf(!existsSync(PYTHON))(
  "the expression in Python (skipped only without the repository's .venv, made by npm test's set-up)",
  () => {
    it('calls espri_vre.kernel.record_dataset with the DatasetIdentifiers, path and URL', () => {
      const script = [
        'import json, sys',
        'import espri_vre.kernel as kernel',
        'seen = []',
        'kernel.record_dataset = lambda ids, path=None, url=None: seen.append((ids, path, url)) or True',
        'result = eval(sys.argv[1])',
        'ids, path, url = seen[0]',
        'print(json.dumps({"result": result, "type": type(ids).__name__, "doi": ids.doi, "pid": ids.pid,',
        '  "instance_id": ids.instance_id, "version": ids.version, "tracking_id": ids.tracking_id,',
        '  "path": path, "url": url}))'
      ].join('\n');
      const out = execFileSync(
        PYTHON,
        ['-c', script, recordDatasetExpression(DATASET)],
        { encoding: 'utf-8' }
      );
      expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({
        result: true,
        type: 'DatasetIdentifiers',
        doi: '10.22033/ESGF/CMIP6.5195',
        pid: 'hdl:21.14100/d1b4bc4c-1c5d-3a2e-a7c6-5b2f1e0c6d1e',
        instance_id:
          'CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr.v20180803',
        version: 'v20180803',
        tracking_id: null,
        path: '/bdd/CMIP6/tas "x".nc',
        url: null
      });
    });

    it('is False in a kernel that is not recording', () => {
      const out = execFileSync(
        PYTHON,
        [
          '-c',
          'import sys; print(eval(sys.argv[1]))',
          recordDatasetExpression(DATASET)
        ],
        { encoding: 'utf-8' }
      );
      expect(out.trim()).toBe('False');
    });
  }
);

function reply(
  recorded: Record<string, unknown>
): KernelMessage.IExecuteReplyMsg['content'] {
  return {
    status: 'ok',
    execution_count: 1,
    user_expressions: { recorded }
  } as KernelMessage.IExecuteReplyMsg['content'];
}

describe('recordedFrom', () => {
  it("reads the kernel's True or False", () => {
    expect(
      recordedFrom(
        reply({ status: 'ok', data: { 'text/plain': 'True' }, metadata: {} }),
        trans
      )
    ).toBe(true);
    expect(
      recordedFrom(
        reply({ status: 'ok', data: { 'text/plain': 'False' }, metadata: {} }),
        trans
      )
    ).toBe(false);
  });

  it("says the kernel's error when it cannot record", () => {
    expect(() =>
      recordedFrom(
        reply({
          status: 'error',
          ename: 'ModuleNotFoundError',
          evalue: "No module named 'espri_vre'",
          traceback: []
        }),
        trans
      )
    ).toThrow(
      "The notebook's kernel could not record the dataset (ModuleNotFoundError: No module named 'espri_vre')."
    );
  });
});

describe('ProvenanceRecorder', () => {
  it("sends one silent request to the notebook's kernel, leaving no cell or history", async () => {
    const sent: KernelMessage.IExecuteRequestMsg['content'][] = [];
    const kernel = {
      requestExecute: (
        content: KernelMessage.IExecuteRequestMsg['content']
      ) => {
        sent.push(content);
        return {
          done: Promise.resolve({
            content: reply({
              status: 'ok',
              data: { 'text/plain': 'True' },
              metadata: {}
            })
          })
        };
      }
    } as unknown as Kernel.IKernelConnection;
    const paths: string[] = [];
    const recorder = new ProvenanceRecorder({
      trans,
      kernelOf: path => {
        paths.push(path);
        return path === 'analysis.ipynb' ? kernel : null;
      }
    });

    await expect(recorder.addDataset('analysis.ipynb', DATASET)).resolves.toBe(
      true
    );
    expect(paths).toEqual(['analysis.ipynb']);
    expect(sent).toEqual([
      {
        code: '',
        silent: true,
        store_history: false,
        allow_stdin: false,
        user_expressions: { recorded: recordDatasetExpression(DATASET) }
      }
    ]);

    await expect(recorder.addDataset('closed.ipynb', DATASET)).rejects.toThrow(
      'No kernel runs for closed.ipynb: start it, then add the dataset again.'
    );
    expect(sent).toHaveLength(1);
  });
});
