// @vitest-environment jsdom
import { nullTranslator } from '@jupyterlab/translation';
import { describe, expect, it } from 'vitest';
import {
  parseThreddsCatalog,
  threddsDatasets
} from '../../src/adapters/thredds';
import { recordActions } from '../../src/browser/actions';
import { previewReference } from '../../src/browser/dataset-actions';
import { type DatasetRecord, emptyRecord } from '../../src/record';
import { HAVE_FIXTURES, readFixture, withFixtures } from '../adapters/fixtures';

/**
 * "Preview" on records from the recorded real THREDDS answers (a TDS datasetScan and an
 * ESGF data node's catalogue): enabled for a file with an HTTPServer access (read by
 * Range requests through the server), saying which access it reads; disabled for an
 * OPeNDAP-only aggregation. An intake-esm group of several files is previewed whole.
 */
const trans = nullTranslator.load('espri_vre');
const SCAN =
  'thredds_catalog_xml_TDS_datasetScan_netcdf_files_dataSize_date__jupyterlab_thredds_crawler_vcr_netcdf.xml';
const ESGF =
  'thredds_catalog_xml_ESGF_published_dataset_with_properties_files__esg-search_resources.xml';

function actionsLogging(log: string[]) {
  return recordActions(
    {
      trans,
      actions: {
        insertCode: async () => undefined,
        copyCode: () => undefined,
        previewUnavailable: () => null,
        preview: async (path, record) => {
          log.push(`${path}|${record.id}`);
        }
      }
    },
    {
      localPath: () => null,
      noLocalPath: 'Remote.',
      noFootprint: 'No footprint.'
    },
    () => undefined
  );
}

function records(fixture: string, url: string): DatasetRecord[] {
  return threddsDatasets(
    parseThreddsCatalog(readFixture(fixture), url, 'x')
  ).map(d => d.record);
}

describe.skipIf(!HAVE_FIXTURES)(
  withFixtures('Preview on remote THREDDS records'),
  () => {
    it('is enabled for an HTTPServer file and says which access it reads', async () => {
      const url = 'https://thredds.example.org/thredds/catalog.xml';
      const file = records(SCAN, url).find(r => r.id.endsWith('.nc'))!;
      const log: string[] = [];
      const actions = actionsLogging(log);
      expect(actions.previewUnavailable(file)).toBeNull();
      expect(actions.previewVia!(file)).toBe(
        `Preview ${file.access.find(a => a.protocol === 'http')!.url} (HTTPServer), read by Range requests through this server`
      );
      await actions.preview(file);
      expect(log).toEqual([`|${file.id}`]);
      // No server path: the previewer gets the record's own accesses and picks HTTPServer.
      const reference = previewReference(file, '');
      expect(reference.access.map(a => a.protocol)).toContain('http');
      expect(reference.access.map(a => a.protocol)).toContain('opendap');
    });

    it('reads an OPeNDAP-only aggregation through OPeNDAP, and says so', async () => {
      const url = 'https://esgf.example.org/thredds/esgcet/1/catalog.xml';
      const all = records(ESGF, url);
      const aggregation = all.find(r => r.id.endsWith('.aggregation'))!;
      const actions = actionsLogging([]);
      expect(actions.previewUnavailable(aggregation)).toBeNull();
      expect(actions.previewVia!(aggregation)).toBe(
        `Preview ${aggregation.access[0].url} (OPENDAP), read by the server one request per chunk`
      );
    });

    it('is disabled, with the reason, for a record with no access it can read', async () => {
      const url = 'https://esgf.example.org/thredds/esgcet/1/catalog.xml';
      const dataset = records(ESGF, url).find(r => r.access.length === 0)!;
      const log: string[] = [];
      const actions = actionsLogging(log);
      expect(actions.previewUnavailable(dataset)).toBe('Remote.');
      await actions.preview(dataset);
      expect(log).toEqual([]);
    });
  }
);

describe('Preview of an intake-esm group of several files', () => {
  it('hands the previewer every NetCDF file of the group', () => {
    const group = emptyRecord(
      'CMIP.IPSL.historical',
      'group',
      'cmip6',
      'intake-esm'
    );
    const files = ['r1', 'r2', 'r3'].map(
      m =>
        `/bdd/CMIP6/tas_Amon_IPSL-CM6A-LR_historical_${m}i1p1f1_gr_185001-201412.nc`
    );
    group.access = files.map(url => ({ url, protocol: 'file' as const }));
    expect(previewReference(group, files[0]).access).toEqual(
      files.map(url => ({ url, protocol: 'file' }))
    );
    const actions = actionsLogging([]);
    expect(actions.previewVia!(group)).toBe(
      'Preview its 3 files as one dataset, combined along time'
    );
    const single = emptyRecord('one', 'one', 'cmip6', 'intake-esm');
    single.access = [{ url: files[0], protocol: 'file' }];
    expect(previewReference(single, files[0]).access).toEqual([
      { url: files[0], protocol: 'file' }
    ]);
  });
});
