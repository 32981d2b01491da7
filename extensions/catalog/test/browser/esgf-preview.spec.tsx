// @vitest-environment jsdom
import { nullTranslator } from '@jupyterlab/translation';
import { cleanup, fireEvent, render, waitFor } from '@testing-library/react';
import * as React from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { parseEsgfSearchResponse } from '../../src/adapters/esgf';
import { recordActions } from '../../src/browser/actions';
import {
  datasetOfFiles,
  previewReference
} from '../../src/browser/dataset-actions';
import { DatasetDetail } from '../../src/browser/detail';
import type { DatasetRecord } from '../../src/record';
import { HAVE_FIXTURES, readFixture, withFixtures } from '../adapters/fixtures';

/**
 * "Preview" of an ESGF dataset on the recorded real esg-search answers: a Dataset
 * search (its records list no file) and a File search of two yearly files of one
 * dataset (prsn of EC-Earth3-AerChem, 1999 and 2000). Once the detail has listed the
 * files, the previewer is handed both files' HTTPServer URLs, which it combines along
 * time (the server's multi-file route), and the button says so.
 */
const trans = nullTranslator.load('espri_vre');
const DATASETS =
  'esgf_esgsearch_solrjson_CMIP6_Dataset_limit10_with_facet_counts__EXTRACTED.json';
const FILES =
  'esgf_esgsearch_solrjson_File_multiple_results__metagrid_fixture.json';
const HTTP_FILES = [
  'https://esgf-node.ornl.gov/thredds/fileServer/css03_data/CMIP6/AerChemMIP/EC-Earth-Consortium/EC-Earth3-AerChem/histSST-piAer/r1i1p1f1/Amon/prsn/gr/v20210831/prsn_Amon_EC-Earth3-AerChem_histSST-piAer_r1i1p1f1_gr_199901-199912.nc',
  'https://esgf-node.ornl.gov/thredds/fileServer/css03_data/CMIP6/AerChemMIP/EC-Earth-Consortium/EC-Earth3-AerChem/histSST-piAer/r1i1p1f1/Amon/prsn/gr/v20210831/prsn_Amon_EC-Earth3-AerChem_histSST-piAer_r1i1p1f1_gr_200001-200012.nc'
];

afterEach(cleanup);

function actionsLogging(log: string[][]) {
  return recordActions(
    {
      trans,
      actions: {
        insertCode: async () => undefined,
        copyCode: () => undefined,
        previewUnavailable: () => null,
        // What the plugin hands IDatasetPreviewer.open (index.ts).
        preview: async (path, record) => {
          log.push(previewReference(record, path).access.map(a => a.url));
        }
      }
    },
    {
      localPath: () => null,
      noLocalPath: 'No copy on this server.',
      noFootprint: 'No footprint.'
    },
    () => undefined
  );
}

describe.skipIf(!HAVE_FIXTURES)(
  withFixtures('Preview of an ESGF dataset and its files'),
  () => {
    const dataset = (): DatasetRecord =>
      parseEsgfSearchResponse(readFixture(DATASETS), 'esgf').records[0];
    const files = (): DatasetRecord[] =>
      parseEsgfSearchResponse(readFixture(FILES), 'esgf').records;

    it('makes one record of the files, their HTTPServer accesses in order', () => {
      const whole = datasetOfFiles(dataset(), files())!;
      expect(whole.id).toBe(dataset().id);
      expect(whole.access.map(a => [a.url, a.protocol, a.media_type])).toEqual(
        HTTP_FILES.map(url => [url, 'http', 'application/netcdf'])
      );
      // One file, or a file without an HTTP access, is no whole dataset.
      expect(datasetOfFiles(dataset(), files().slice(0, 1))).toBeNull();
      const opendapOnly = files();
      opendapOnly[1].access = opendapOnly[1].access.filter(
        a => a.protocol === 'opendap'
      );
      expect(datasetOfFiles(dataset(), opendapOnly)).toBeNull();
    });

    it('previews every file once they are listed, and says so', async () => {
      const log: string[][] = [];
      let listed: (found: DatasetRecord[]) => void = () => undefined;
      const { container } = render(
        <DatasetDetail
          record={dataset()}
          listFiles={() => new Promise(done => (listed = done))}
          code={() => ({ code: 'import xarray' })}
          trans={trans}
          actions={actionsLogging(log)}
          signal={new AbortController().signal}
          onClose={() => undefined}
        />
      );
      const button = () =>
        container.querySelector<HTMLButtonElement>(
          '.jp-EspriVre-previewDataset'
        )!;
      // The dataset's own record lists a THREDDS catalogue and LAS: nothing to read.
      expect(button().disabled).toBe(true);
      expect(button().title).toBe('Listing the files of the dataset first…');
      React.act(() => listed(files()));
      await waitFor(() => expect(button().disabled).toBe(false));
      expect(button().title).toBe(
        'Preview its 2 files as one dataset, combined along time, read by Range requests through this server'
      );
      fireEvent.click(button());
      await waitFor(() => expect(log).toEqual([HTTP_FILES]));
    });

    it('keeps Preview off, with the reason, when the files cannot be listed', async () => {
      const { container } = render(
        <DatasetDetail
          record={dataset()}
          listFiles={async () => {
            throw new Error('the index answered 502');
          }}
          code={() => ({ code: 'import xarray' })}
          trans={trans}
          actions={actionsLogging([])}
          signal={new AbortController().signal}
          onClose={() => undefined}
        />
      );
      const button = container.querySelector<HTMLButtonElement>(
        '.jp-EspriVre-previewDataset'
      )!;
      await waitFor(() => expect(button.title).toBe('No copy on this server.'));
      expect(button.disabled).toBe(true);
    });
  }
);
