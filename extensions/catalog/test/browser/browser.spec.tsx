// @vitest-environment jsdom
import { ServerConnection } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';
import {
  cleanup,
  fireEvent,
  render,
  screen,
  waitFor,
  within
} from '@testing-library/react';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as React from 'react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserActions,
  CatalogBrowserView
} from '../../src/browser/browser';
import type { Pin } from '../../src/browser/pins';
import { decodeSearch, encodeSearch } from '../../src/browser/query';
import { CATALOGS, PYTHON } from '../intake/python';

const trans = nullTranslator.load('espri_vre');
const SHARED = `${CATALOGS}/cmip6-netcdf.json`;
const available = existsSync(SHARED) && existsSync(PYTHON);
if (!available) {
  console.warn(
    `Catalogue Browser tests skipped: they need ${SHARED} (the shared data) and ${PYTHON}.`
  );
}

/**
 * The ESM collection and Arrow table exactly as the server sends them: made by the
 * server's own `espri_vre.catalogs.intake_table.load_catalog`.
 */
function serverCatalog(): {
  collection: string;
  parts: Record<string, Buffer>;
} {
  const out = execFileSync(
    PYTHON,
    [
      '-c',
      [
        'import base64, json, sys',
        'from pathlib import Path',
        'from espri_vre.catalogs.intake_table import load_catalog',
        'c = load_catalog(Path(sys.argv[1]))',
        'parts = {p: base64.b64encode(c.stream_of(p).to_pybytes()).decode() for p in ("search", "assets")}',
        'print(json.dumps({"collection": c.collection, "parts": parts}))'
      ].join('\n'),
      SHARED
    ],
    { encoding: 'utf-8', maxBuffer: 64 * 1024 * 1024 }
  );
  const parsed = JSON.parse(out) as {
    collection: unknown;
    parts: Record<string, string>;
  };
  return {
    collection: JSON.stringify(parsed.collection),
    parts: Object.fromEntries(
      Object.entries(parsed.parts).map(([part, text]) => [
        part,
        Buffer.from(text, 'base64')
      ])
    )
  };
}

let server: http.Server;
let baseUrl: string;
let failNext: { status: number; body: string } | null = null;

beforeAll(async () => {
  if (!available) {
    return;
  }
  const catalog = serverCatalog();
  server = http.createServer((req, res) => {
    // ServerConnection adds a cache-busting query string.
    const [url, search] = (req.url ?? '').split('?');
    const part = new URLSearchParams(search).get('part') ?? '';
    if (failNext && url.endsWith('/esm')) {
      const answer = failNext;
      failNext = null;
      res
        .writeHead(answer.status, { 'Content-Type': 'application/json' })
        .end(answer.body);
      return;
    }
    if (url === '/espri-vre/api/catalogs/cmip6/esm') {
      res
        .writeHead(200, { 'Content-Type': 'application/json' })
        .end(catalog.collection);
    } else if (
      url === '/espri-vre/api/catalogs/cmip6/table' &&
      part in catalog.parts
    ) {
      res
        .writeHead(200, {
          'Content-Type': 'application/vnd.apache.arrow.stream',
          'Content-Length': String(catalog.parts[part].byteLength)
        })
        .end(catalog.parts[part]);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  if (!server) {
    return;
  }
  server.closeAllConnections();
  await new Promise(resolve => server.close(resolve));
});

afterEach(() => {
  cleanup();
  failNext = null;
});

function actions(log: string[], previewable = true): BrowserActions {
  return {
    insertCode: async code => {
      log.push(`insert:${code}`);
    },
    copyCode: code => {
      log.push(`copy:${code}`);
    },
    previewUnavailable: () =>
      previewable ? null : 'No previewer is installed.',
    preview: async path => {
      log.push(`preview:${path}`);
    }
  };
}

function renderBrowser(log: string[], previewable = true) {
  return render(
    <CatalogBrowserView
      catalog={{
        id: 'cmip6',
        title: 'CMIP6 <b>sample</b>',
        kind: 'intake-esm',
        url: '/data/cmip6-netcdf.json'
      }}
      settings={ServerConnection.makeSettings({ baseUrl })}
      trans={trans}
      actions={actions(log, previewable)}
      signal={new AbortController().signal}
    />
  );
}

/** The open dataset's details, once the catalogue's paths have arrived. */
function openedDetail(container: HTMLElement): Promise<HTMLElement> {
  return waitFor(() => {
    const detail = container.querySelector<HTMLElement>(
      '.jp-EspriVre-datasetDetail'
    );
    expect(detail).not.toBeNull();
    return detail!;
  });
}

function resultCount(container: HTMLElement): number {
  const node = container.querySelector('.jp-EspriVre-resultCount');
  return Number(node?.getAttribute('data-count'));
}

function facetValue(
  container: HTMLElement,
  column: string,
  value: string
): HTMLLabelElement {
  const label = container.querySelector<HTMLLabelElement>(
    `fieldset.jp-EspriVre-facet[data-facet="${column}"] label.jp-EspriVre-facetValue[data-value="${value}"]`
  );
  if (!label) {
    throw new Error(`no facet value ${column}=${value}`);
  }
  return label;
}

function count(label: HTMLElement): number {
  return Number(label.querySelector('.jp-EspriVre-facetCount')?.textContent);
}

describe.skipIf(!available)(
  'Catalogue Browser on the real CMIP6 sample',
  () => {
    it('lists the 24 datasets intake-esm finds, with facet counts of the 59 rows', async () => {
      const { container } = renderBrowser([]);
      await waitFor(() => expect(resultCount(container)).toBe(24));
      expect(
        container
          .querySelector('.jp-EspriVre-catalogBrowser')
          ?.getAttribute('data-catalog-id')
      ).toBe('cmip6');
      // The title is text, never markup.
      expect(container.querySelector('b')).toBeNull();
      expect(screen.getByText('CMIP6 <b>sample</b>')).toBeTruthy();
      expect(count(facetValue(container, 'source_id', 'IPSL-CM6A-LR'))).toBe(
        25
      );
      expect(
        count(facetValue(container, 'institution_id', 'CNRM-CERFACS'))
      ).toBe(28);
      // Only the rows in view (and a few more) are in the page.
      expect(
        container
          .querySelector('ul.jp-EspriVre-datasets')
          ?.getAttribute('data-total')
      ).toBe('24');
      expect(
        container.querySelectorAll('li.jp-EspriVre-dataset').length
      ).toBeLessThan(24);
    });

    it('narrows with each ticked value and recounts the other facets', async () => {
      const { container } = renderBrowser([]);
      await waitFor(() => expect(resultCount(container)).toBe(24));
      fireEvent.click(
        within(facetValue(container, 'source_id', 'CNRM-CM6-1')).getByRole(
          'checkbox'
        )
      );
      await waitFor(() => expect(resultCount(container)).toBe(4));
      // Counted under source_id=CNRM-CM6-1 (intake-esm: 5 historical rows) ...
      expect(count(facetValue(container, 'experiment_id', 'historical'))).toBe(
        5
      );
      // ... while source_id's own values keep their counts (OR within a column).
      expect(count(facetValue(container, 'source_id', 'BCC-ESM1'))).toBe(1);
      fireEvent.click(
        within(facetValue(container, 'source_id', 'BCC-ESM1')).getByRole(
          'checkbox'
        )
      );
      await waitFor(() => expect(resultCount(container)).toBe(5));
      fireEvent.click(
        within(facetValue(container, 'experiment_id', 'historical')).getByRole(
          'checkbox'
        )
      );
      await waitFor(() => expect(resultCount(container)).toBe(2));
      expect(
        [...container.querySelectorAll('li.jp-EspriVre-dataset')].map(li =>
          li.getAttribute('data-key')
        )
      ).toEqual([
        'CMIP.CNRM-CERFACS.CNRM-CM6-1.historical.Amon.gr',
        'CMIP.CNRM-CERFACS.CNRM-CM6-1.historical.Lmon.gr'
      ]);
    });

    it('opens a dataset and inserts, copies and previews its code', async () => {
      const log: string[] = [];
      const { container } = renderBrowser(log);
      await waitFor(() => expect(resultCount(container)).toBe(24));
      const key = 'CMIP.CNRM-CERFACS.CNRM-CM6-1.historical.Amon.gr';
      fireEvent.click(
        within(
          container.querySelector<HTMLElement>(
            `li.jp-EspriVre-dataset[data-key="${key}"]`
          )!
        ).getByRole('button')
      );
      const detail = await openedDetail(container);
      expect(
        detail.querySelector('.jp-EspriVre-datasetVariables')?.textContent
      ).toBe('prsn, tasmax');
      // Three files: prsn and tasmax of r4i1p1f2, tasmax of r6i1p1f2.
      expect(
        [...detail.querySelectorAll('.jp-EspriVre-datasetAssets li')].map(li =>
          li.textContent?.replace(/^.*\/([^/]+\.nc).*$/, '$1')
        )
      ).toEqual([
        'prsn_Amon_CNRM-CM6-1_historical_r4i1p1f2_gr_185001-201412.nc',
        'tasmax_Amon_CNRM-CM6-1_historical_r4i1p1f2_gr_185001-201412.nc',
        'tasmax_Amon_CNRM-CM6-1_historical_r6i1p1f2_gr_185001-201412.nc'
      ]);
      fireEvent.click(detail.querySelector('.jp-EspriVre-insertCode')!);
      await waitFor(() => expect(log).toHaveLength(1));
      expect(log[0]).toContain(
        'cat = intake.open_esm_datastore("/data/cmip6-netcdf.json")'
      );
      expect(log[0]).toContain('    source_id="CNRM-CM6-1",\n');
      expect(log[0]).toContain('xarray_open_kwargs={"engine": "h5netcdf"}');
      expect(log[0]).toContain(`ds = dsets["${key}"]`);
      fireEvent.click(detail.querySelector('.jp-EspriVre-copyCode')!);
      await waitFor(() => expect(log).toHaveLength(2));
      expect(log[1].slice('copy:'.length)).toBe(log[0].slice('insert:'.length));
      fireEvent.click(detail.querySelector('.jp-EspriVre-previewDataset')!);
      await waitFor(() => expect(log).toHaveLength(3));
      expect(log[2]).toMatch(
        /^preview:\.\/tests\/sample_data\/cmip\/CMIP6\/CMIP\/CNRM-CERFACS\/.*\.nc$/
      );
    });

    it('pins a dataset, starts from a shared selection and copies its link', async () => {
      let pins: Pin[] = [];
      const copied: string[] = [];
      const { container } = render(
        <CatalogBrowserView
          catalog={{
            id: 'cmip6',
            title: 'CMIP6',
            kind: 'intake-esm',
            url: '/data/cmip6-netcdf.json'
          }}
          settings={ServerConnection.makeSettings({ baseUrl })}
          trans={trans}
          initialQuery={{ text: '', facets: { table_id: ['Lmon'] } }}
          actions={{
            ...actions([]),
            copyCode: code => copied.push(code),
            pins: () => pins,
            setPins: async next => {
              pins = next;
            },
            globeUnavailable: () => null,
            showOnGlobe: async () => undefined,
            shareLink: (catalogId, query) =>
              `${baseUrl}lab?${encodeSearch(catalogId, query).toString()}`
          }}
          signal={new AbortController().signal}
        />
      );
      await waitFor(() => expect(resultCount(container)).toBeGreaterThan(0));
      const keys = [
        ...container.querySelectorAll('li.jp-EspriVre-dataset')
      ].map(li => li.getAttribute('data-key'));
      expect(keys.every(key => key?.includes('.Lmon.'))).toBe(true);
      fireEvent.click(
        screen.getByRole('button', { name: 'Copy link to this search' })
      );
      expect(decodeSearch(new URL(copied[0]).searchParams)).toEqual({
        catalogId: 'cmip6',
        query: { text: '', facets: { table_id: ['Lmon'] } }
      });
      fireEvent.click(
        within(
          container.querySelector<HTMLElement>('li.jp-EspriVre-dataset')!
        ).getByRole('button')
      );
      const detail = await openedDetail(container);
      const globe = within(detail).getByRole('button', {
        name: 'Show on globe'
      });
      expect(globe).toHaveProperty('disabled', true);
      expect(detail.textContent).toContain(
        'The catalogue gives no footprint for this dataset.'
      );
      fireEvent.click(within(detail).getByRole('button', { name: 'Pin' }));
      await waitFor(() => expect(pins).toHaveLength(1));
      expect(pins[0]).toMatchObject({ catalog_id: 'cmip6', id: keys[0] });
      expect(pins[0].code).toContain('intake.open_esm_datastore(');
      await waitFor(() =>
        expect(
          within(detail).getByRole('button', { name: 'Unpin' })
        ).toBeTruthy()
      );
    });

    it('disables Preview and says why when no previewer is installed', async () => {
      const { container } = renderBrowser([], false);
      await waitFor(() => expect(resultCount(container)).toBe(24));
      fireEvent.click(
        within(
          container.querySelector<HTMLElement>('li.jp-EspriVre-dataset')!
        ).getByRole('button')
      );
      const preview = (
        await openedDetail(container)
      ).querySelector<HTMLButtonElement>('.jp-EspriVre-previewDataset')!;
      expect(preview.disabled).toBe(true);
      expect(preview.title).toBe('No previewer is installed.');
    });

    it("shows the server's reason for a failure and loads again on Retry", async () => {
      failNext = {
        status: 422,
        body: JSON.stringify({
          error: 'invalid-catalog',
          detail: "bad.json: its catalog_file 'nowhere.csv' does not exist."
        })
      };
      const { container } = renderBrowser([]);
      const alert = await screen.findByRole('alert');
      expect(alert.textContent).toContain(
        "bad.json: its catalog_file 'nowhere.csv' does not exist."
      );
      fireEvent.click(within(alert).getByRole('button', { name: 'Retry' }));
      await waitFor(() => expect(resultCount(container)).toBe(24));
    });
  }
);
