// @vitest-environment jsdom
/**
 * The Catalogue Browser on remote catalogues (ESGF, STAC API, THREDDS, CSW) and on a
 * static STAC catalogue of the server, against a stand-in for the Jupyter server: its
 * `catalogs/{id}/proxy` route answers the recorded real responses of
 * ../shared/fixtures/catalog for the upstream URLs they came from, and the errors the
 * real proxy gives (403 host-not-allowed, 502 unreachable, a cut answer with
 * X-Espri-Vre-Truncated) in the same shape. The real proxy is tested in pytest.
 */
import { ServerConnection } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';
import {
  cleanup,
  configure,
  fireEvent,
  render,
  screen,
  waitFor,
  within
} from '@testing-library/react';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as React from 'react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type BrowserActions,
  CatalogBrowserView
} from '../../src/browser/browser';
import type { Pin } from '../../src/browser/pins';
import { decodeSearch } from '../../src/browser/query';
import { readFixture, withFixtures, HAVE_FIXTURES } from '../adapters/fixtures';

const trans = nullTranslator.load('espri_vre');

// Shared test machines are slow at times: wait longer for answers (not a time limit
// being tested).
configure({ asyncUtilTimeout: 15000 });

/** A static STAC catalogue of one collection holding two items, one of them missing. */
const DOCUMENTS: Record<string, unknown> = {
  '/files/stac/catalog.json': {
    type: 'Catalog',
    stac_version: '1.0.0',
    id: 'root',
    description: 'Root',
    links: [{ rel: 'child', href: './c/collection.json' }]
  },
  '/files/stac/c/collection.json': {
    type: 'Collection',
    stac_version: '1.0.0',
    id: 'c',
    description: 'A collection',
    license: 'CC-BY-4.0',
    extent: {
      spatial: { bbox: [[-180, -90, 180, 90]] },
      temporal: { interval: [['2000-01-01T00:00:00Z', null]] }
    },
    links: [
      { rel: 'item', href: './tas/tas.json' },
      { rel: 'item', href: './gone/gone.json' }
    ]
  },
  '/files/stac/c/tas/tas.json': {
    type: 'Feature',
    stac_version: '1.0.0',
    id: 'tas-item',
    geometry: null,
    bbox: [-10, 40, 10, 50],
    properties: {
      title: 'Near-surface air temperature <script>x</script>',
      datetime: '2000-01-16T12:00:00Z'
    },
    links: [],
    assets: {
      data: {
        href: '../../../data/tas.nc',
        type: 'application/x-netcdf',
        roles: ['data']
      }
    }
  }
};

const ESGF = 'http://esgf.test/esg-search/search';
const THREDDS = 'http://thredds.test/thredds/catalog.xml';
const CSW = 'http://csw.test/csw';
const STAC_API = 'https://planetarycomputer.microsoft.com/api/stac/v1/';

interface Upstream {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

/** Each proxied request, as `METHOD url [body]`. */
let requests: string[] = [];

function json(status: number, value: unknown): Upstream {
  return { status, body: JSON.stringify(value) };
}

/** The second page of a recorded answer: the same documents under other ids. */
function secondPage(text: string, suffix: string): string {
  return text.replace(/("id": ")([^"]+)"/g, `$1$2${suffix}"`);
}

/** What the server's proxy answers for an upstream request. */
function upstream(method: string, target: URL, body: string): Upstream {
  const host = target.host;
  if (host === 'esgf.test') {
    if (target.pathname.endsWith('/wget')) {
      return {
        status: 200,
        body: `#!/bin/bash\n# ESG federation download script\n# ${target.searchParams.getAll('dataset_id').join(' ')}\n`
      };
    }
    if (target.searchParams.get('type') === 'File') {
      return {
        status: 200,
        body: readFixture(
          'esgf_esgsearch_solrjson_File_multiple_results__metagrid_fixture.json'
        )
      };
    }
    const text = readFixture(
      'esgf_esgsearch_solrjson_CMIP6_Dataset_limit10_with_facet_counts__EXTRACTED.json'
    );
    const offset = Number(target.searchParams.get('offset') ?? '0');
    return {
      status: 200,
      body:
        offset === 0
          ? text
          : secondPage(text, '-page2').replace(
              /"start":\s*0/,
              `"start": ${offset}`
            )
    };
  }
  if (host === 'broken.test') {
    return { status: 200, body: '{"response": {"numFound": 3, "docs": [' };
  }
  if (host === 'cut.test') {
    return {
      status: 200,
      body: readFixture(
        'esgf_esgsearch_solrjson_CMIP6_Dataset_limit10_with_facet_counts__EXTRACTED.json'
      ).slice(0, 4096),
      headers: { 'X-Espri-Vre-Truncated': 'true' }
    };
  }
  if (host === 'evil.test') {
    return json(403, {
      error: 'host-not-allowed',
      detail:
        'The catalogue proxy may not reach the host evil.test: it is neither the host of a configured catalogue nor in the allow-list.'
    });
  }
  if (host === 'down.test') {
    return json(502, {
      error: 'unreachable',
      detail: 'down.test:80 cannot be reached: connection refused.'
    });
  }
  if (host === 'failing.test') {
    return json(502, {
      error: 'upstream-error',
      detail: 'The catalogue server answered 500 Internal Server Error.'
    });
  }
  if (host === 'thredds.test') {
    if (target.pathname === '/thredds/catalog.xml') {
      return {
        status: 200,
        body: readFixture(
          'thredds_catalog_xml_top_level_catalogRefs__siphon_fixture_top_thredds_catalog.xml'
        )
      };
    }
    if (target.pathname === '/thredds/testDatasets.xml') {
      return {
        status: 200,
        body: readFixture(
          'thredds_catalog_xml_TDS_datasetScan_netcdf_files_dataSize_date__jupyterlab_thredds_crawler_vcr_netcdf.xml'
        )
      };
    }
    if (target.pathname === '/thredds/bad.xml') {
      return { status: 200, body: '<catalog><dataset name="x"></catalog>' };
    }
    return json(404, {
      error: 'upstream-error',
      detail: `The catalogue server answered 404 Not Found for ${target.href}.`
    });
  }
  if (host === 'csw.test' && method === 'POST') {
    const start = /startPosition="(\d+)"/.exec(body)?.[1];
    const text = readFixture(
      'csw_GetRecordsResponse_DublinCore_full_5of12__pycsw_tests_expected.xml'
    );
    return { status: 200, body: start === '1' ? text : `${text}` };
  }
  if (host === 'planetarycomputer.microsoft.com') {
    if (target.pathname === '/api/stac/v1/') {
      return {
        status: 200,
        body: readFixture(
          'stac_api_landing_page_planetary-computer_root_conformsTo__pystac-client.json'
        )
      };
    }
    if (target.pathname === '/api/stac/v1/search') {
      return {
        status: 200,
        body: readFixture(
          'stac_api_search_ItemCollection_HLS_10items_numberMatched_context_next__pystac-client.json'
        )
      };
    }
  }
  if (host === 'cmr.earthdata.nasa.gov') {
    return {
      status: 200,
      body: secondPage(
        readFixture(
          'stac_api_search_ItemCollection_HLS_10items_numberMatched_context_next__pystac-client.json'
        ),
        '-page2'
      )
    };
  }
  return json(404, {
    error: 'upstream-error',
    detail: `No recorded answer for ${target.href}.`
  });
}

let server: http.Server;
let baseUrl: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const [route, search] = (req.url ?? '').split('?');
    let body = '';
    req.on('data', chunk => (body += chunk));
    req.on('end', () => {
      const proxied = /^\/espri-vre\/api\/catalogs\/[^/]+\/proxy$/.test(route);
      if (proxied) {
        const target = new URL(
          new URLSearchParams(search).get('url') ?? 'http://none.test/'
        );
        requests.push(
          `${req.method} ${target.href}${body ? ` ${body.slice(0, 2000)}` : ''}`
        );
        const answer = upstream(req.method ?? 'GET', target, body);
        res
          .writeHead(answer.status, {
            'Content-Type':
              answer.status >= 400 ? 'application/json' : 'text/plain',
            'X-Espri-Vre-Url': target.href,
            'X-Espri-Vre-Truncated': 'false',
            ...(answer.headers ?? {})
          })
          .end(answer.body);
        return;
      }
      const doc = DOCUMENTS[route];
      if (doc === undefined) {
        res
          .writeHead(404, { 'Content-Type': 'application/json' })
          .end(
            JSON.stringify({ error: 'not-found', detail: `No file ${route}.` })
          );
        return;
      }
      res
        .writeHead(200, { 'Content-Type': 'application/json' })
        .end(JSON.stringify(doc));
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise(resolve => server.close(resolve));
});

afterEach(() => {
  cleanup();
  requests = [];
});

interface Log {
  events: string[];
  pins: Pin[];
}

function actions(log: Log, installed = true): BrowserActions {
  return {
    insertCode: async code => {
      log.events.push(`insert:${code}`);
    },
    copyCode: code => {
      log.events.push(`copy:${code}`);
    },
    previewUnavailable: () => (installed ? null : 'No previewer is installed.'),
    preview: async path => {
      log.events.push(`preview:${path}`);
    },
    globeUnavailable: () => (installed ? null : 'No globe is installed.'),
    showOnGlobe: async record => {
      log.events.push(`globe:${record.id}:${record.spatial?.bbox?.join(',')}`);
    },
    pins: () => log.pins,
    setPins: async pins => {
      log.pins = pins;
    },
    shareLink: (catalogId, query) => {
      const url = new URL('lab', baseUrl);
      url.search = new URLSearchParams([
        ['espri-vre-catalog', catalogId],
        ['espri-vre-q', query.text]
      ]).toString();
      return url.href;
    },
    saveFile: (name, text) => {
      log.events.push(`save:${name}:${text}`);
    }
  };
}

function renderCatalog(
  kind: 'esgf' | 'stac' | 'thredds' | 'csw',
  url: string,
  log: Log = { events: [], pins: [] },
  installed = true
) {
  return render(
    <CatalogBrowserView
      catalog={{ id: `test-${kind}`, title: `Test ${kind}`, kind, url }}
      settings={ServerConnection.makeSettings({ baseUrl })}
      trans={trans}
      actions={actions(log, installed)}
      signal={new AbortController().signal}
      serverFileUrl={path =>
        path.startsWith('/srv/')
          ? `${baseUrl}files/${path.slice('/srv/'.length)}`
          : null
      }
    />
  );
}

function resultCount(container: HTMLElement): HTMLElement {
  return container.querySelector<HTMLElement>('.jp-EspriVre-resultCount')!;
}

async function settled(container: HTMLElement): Promise<void> {
  await waitFor(() =>
    expect(resultCount(container)?.getAttribute('aria-busy')).toBe('false')
  );
}

function openRecord(container: HTMLElement, id: string): HTMLElement {
  const item = container.querySelector<HTMLElement>(
    `li.jp-EspriVre-dataset[data-key="${id}"]`
  );
  if (!item) {
    throw new Error(`no result ${id}`);
  }
  fireEvent.click(item.querySelector('.jp-EspriVre-datasetOpen')!);
  return container.querySelector<HTMLElement>('.jp-EspriVre-recordDetail')!;
}

describe('Catalogue Browser on a static STAC catalogue of the server', () => {
  it('lists the items it walks to, says which documents failed, and shows assets', async () => {
    const { container } = renderCatalog('stac', '/srv/stac/catalog.json');
    await settled(container);
    expect(resultCount(container).getAttribute('data-count')).toBe('1');
    expect(screen.getByRole('alert').textContent).toContain(
      'No file /files/stac/c/gone/gone.json.'
    );
    const item = container.querySelector<HTMLElement>(
      'li.jp-EspriVre-dataset[data-key="tas-item"]'
    )!;
    expect(item.querySelector('.jp-EspriVre-recordTitle')?.textContent).toBe(
      'Near-surface air temperature <script>x</script>'
    );
    expect(container.querySelector('script')).toBeNull();
    const detail = openRecord(container, 'tas-item');
    expect(
      detail.querySelector('.jp-EspriVre-datasetAssets li')?.textContent
    ).toContain(`${baseUrl}files/data/tas.nc`);
    // The collection's licence, as the item states none.
    expect(detail.querySelector('.jp-EspriVre-licence')?.textContent).toBe(
      'CC-BY-4.0'
    );
  });

  it('gives pystac and xarray code on the server paths, and previews the file', async () => {
    const log: Log = { events: [], pins: [] };
    const { container } = renderCatalog('stac', '/srv/stac/catalog.json', log);
    await settled(container);
    const detail = openRecord(container, 'tas-item');
    const code = detail.querySelector('.jp-EspriVre-datasetCode')?.textContent;
    expect(code).toBe(
      'import pystac\nimport xarray as xr\n\n' +
        'item = pystac.Item.from_file("/srv/stac/c/tas/tas.json")\n' +
        'ds = xr.open_dataset(item.assets["data"].get_absolute_href())\nds\n'
    );
    fireEvent.click(
      within(detail).getByRole('button', { name: 'Insert code' })
    );
    fireEvent.click(within(detail).getByRole('button', { name: 'Preview' }));
    fireEvent.click(
      within(detail).getByRole('button', { name: 'Show on globe' })
    );
    await waitFor(() => expect(log.events).toHaveLength(3));
    expect(log.events).toContain(`insert:${code}`);
    expect(log.events).toContain('preview:/srv/data/tas.nc');
    expect(log.events).toContain('globe:tas-item:-10,40,10,50');
  });

  it('narrows by text, by bbox and by time in the browser', async () => {
    const { container } = renderCatalog('stac', '/srv/stac/catalog.json');
    await settled(container);
    const text = container.querySelector<HTMLInputElement>(
      '.jp-EspriVre-searchText'
    )!;
    fireEvent.change(text, { target: { value: 'temperature' } });
    fireEvent.submit(text.form!);
    expect(resultCount(container).getAttribute('data-count')).toBe('1');
    fireEvent.change(text, { target: { value: 'salinity' } });
    fireEvent.submit(text.form!);
    expect(resultCount(container).getAttribute('data-count')).toBe('0');
    fireEvent.change(text, { target: { value: '' } });
    fireEvent.submit(text.form!);

    const bound = (name: string) =>
      container.querySelector<HTMLInputElement>(`[data-bound="${name}"]`)!;
    for (const [name, value] of [
      ['west', '100'],
      ['south', '0'],
      ['east', '120'],
      ['north', '20']
    ]) {
      fireEvent.change(bound(name), { target: { value } });
    }
    fireEvent.click(screen.getByRole('button', { name: 'Set area' }));
    expect(resultCount(container).getAttribute('data-count')).toBe('0');
    fireEvent.click(screen.getByRole('button', { name: 'Any area' }));
    expect(resultCount(container).getAttribute('data-count')).toBe('1');

    const start = container.querySelector<HTMLInputElement>(
      '.jp-EspriVre-time-start'
    )!;
    fireEvent.change(start, { target: { value: '2001-01-01' } });
    expect(resultCount(container).getAttribute('data-count')).toBe('0');
    fireEvent.change(start, { target: { value: '1999-01-01' } });
    expect(resultCount(container).getAttribute('data-count')).toBe('1');
  });

  it('refuses a bbox that is not one, and says why', async () => {
    const { container } = renderCatalog('stac', '/srv/stac/catalog.json');
    await settled(container);
    const south = container.querySelector<HTMLInputElement>(
      '[data-bound="south"]'
    )!;
    fireEvent.change(south, { target: { value: '95' } });
    fireEvent.click(screen.getByRole('button', { name: 'Set area' }));
    expect(
      container.querySelector('.jp-EspriVre-bbox [role="alert"]')?.textContent
    ).toBe('Give four numbers: west, south, east and north.');
  });

  it('says why when the root cannot be read, and reads it again on Retry', async () => {
    renderCatalog('stac', '/srv/nowhere/catalog.json');
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain(
      'The catalogue "Test stac" could not be opened.'
    );
    expect(alert.textContent).toContain('No file /files/nowhere/catalog.json.');
    expect(within(alert).getByRole('button', { name: 'Retry' })).toBeTruthy();
  });

  it('explains that a catalogue outside the served roots cannot be browsed', () => {
    const { container } = renderCatalog('stac', '/elsewhere/catalog.json');
    expect(
      container.querySelector('.jp-EspriVre-unsupported')?.textContent
    ).toContain('outside the server root and the data roots');
  });
});

describe.skipIf(!HAVE_FIXTURES)(
  withFixtures('Catalogue Browser on recorded remote catalogues'),
  () => {
    it('searches ESGF with its facet counts, pages, lists files and gives xarray code', async () => {
      const log: Log = { events: [], pins: [] };
      const { container } = renderCatalog('esgf', ESGF, log);
      await settled(container);
      expect(resultCount(container).getAttribute('data-count')).toBe('10');
      expect(resultCount(container).textContent).toContain(
        '8126429 match on the server'
      );
      const value = container.querySelector<HTMLElement>(
        'fieldset.jp-EspriVre-facet[data-facet="source_id"] label[data-value="ACCESS-CM2"]'
      )!;
      expect(value.querySelector('.jp-EspriVre-facetCount')?.textContent).toBe(
        '15117'
      );
      fireEvent.click(value.querySelector('input')!);
      await settled(container);
      const search = requests.filter(line => line.includes('type=Dataset'));
      const narrowed = search.find(line =>
        line.includes('source_id=ACCESS-CM2')
      );
      expect(narrowed).toContain('latest=true');
      expect(narrowed).toContain('facets=project%2Cactivity_id');

      fireEvent.click(
        screen.getByRole('button', { name: 'Load more (10 of 8126429 loaded)' })
      );
      await waitFor(() =>
        expect(resultCount(container).getAttribute('data-count')).toBe('20')
      );
      expect(requests.some(line => line.includes('offset=10'))).toBe(true);

      const id =
        'CMIP6.CMIP.CCCma.CanESM5-CanOE.1pctCO2.r1i1p2f1.Omon.hfbasin.gn.v20190429|crd-esgf-drc.ec.gc.ca';
      const detail = openRecord(container, id);
      await waitFor(() =>
        expect(
          detail.querySelector('.jp-EspriVre-datasetCode')?.textContent
        ).toContain('xr.open_mfdataset(')
      );
      expect(
        detail.querySelectorAll('.jp-EspriVre-datasetAssets li').length
      ).toBe(8);
      expect(
        requests.some(line =>
          line.includes(
            `dataset_id=${encodeURIComponent(id).replace(/%20/g, '+')}`
          )
        )
      ).toBe(true);
      const code = detail.querySelector(
        '.jp-EspriVre-datasetCode'
      )?.textContent;
      expect(code).toContain('xr.open_mfdataset(');
      expect(code).toContain(
        '"https://esgf-node.ornl.gov/thredds/dodsC/css03_data/CMIP6/AerChemMIP/EC-Earth-Consortium/EC-Earth3-AerChem/histSST-piAer/r1i1p1f1/Amon/prsn/gr/v20210831/prsn_Amon_EC-Earth3-AerChem_histSST-piAer_r1i1p1f1_gr_199901-199912.nc"'
      );
    });

    it('saves the ESGF wget script of the ticked datasets', async () => {
      const log: Log = { events: [], pins: [] };
      const { container } = renderCatalog('esgf', ESGF, log);
      await settled(container);
      const wget =
        container.querySelector<HTMLButtonElement>('.jp-EspriVre-wget')!;
      expect(wget.disabled).toBe(true);
      const boxes = container.querySelectorAll<HTMLInputElement>(
        '.jp-EspriVre-selectRecord'
      );
      fireEvent.click(boxes[0]);
      fireEvent.click(boxes[1]);
      expect(wget.textContent).toBe('wget script (2 datasets)');
      fireEvent.click(wget);
      await waitFor(() => expect(log.events).toHaveLength(1));
      expect(log.events[0]).toMatch(/^save:wget-esgf\.sh:#!\/bin\/bash\n/);
      expect(log.events[0]).toContain(
        'CMIP6.CMIP.CCCma.CanESM5-CanOE.1pctCO2.r1i1p2f1.Omon.tauuo.gn.v20190429|crd-esgf-drc.ec.gc.ca'
      );
    });

    it('pins a record in the settings and copies a link that restores the search', async () => {
      const log: Log = { events: [], pins: [] };
      const { container } = renderCatalog('esgf', ESGF, log);
      await settled(container);
      const text = container.querySelector<HTMLInputElement>(
        '.jp-EspriVre-searchText'
      )!;
      fireEvent.change(text, { target: { value: 'tauuo' } });
      fireEvent.submit(text.form!);
      await settled(container);
      expect(requests.at(-1)).toContain('query=tauuo');
      fireEvent.click(
        screen.getByRole('button', { name: 'Copy link to this search' })
      );
      const link = log.events.find(event => event.startsWith('copy:'));
      const shared = decodeSearch(new URL(link!.slice(5)).searchParams);
      expect(shared).toEqual({
        catalogId: 'test-esgf',
        query: { text: 'tauuo', facets: {} }
      });

      const id =
        'CMIP6.CMIP.CCCma.CanESM5-CanOE.1pctCO2.r1i1p2f1.Omon.tauuo.gn.v20190429|crd-esgf-drc.ec.gc.ca';
      const detail = openRecord(container, id);
      fireEvent.click(within(detail).getByRole('button', { name: 'Pin' }));
      await waitFor(() => expect(log.pins).toHaveLength(1));
      expect(log.pins[0]).toMatchObject({ catalog_id: 'test-esgf', id });
      await waitFor(() =>
        expect(
          within(detail).getByRole('button', { name: 'Unpin' })
        ).toBeTruthy()
      );
    });

    it('searches a STAC API by POST, pages through next links and gives pystac_client code', async () => {
      const { container } = renderCatalog('stac', STAC_API);
      await settled(container);
      expect(resultCount(container).getAttribute('data-count')).toBe('10');
      const post = requests.find(line => line.startsWith('POST'));
      expect(post).toContain(`${STAC_API}search {"limit":50}`);
      expect(
        container.querySelector(
          'fieldset.jp-EspriVre-facet[data-facet="collection"] label[data-value="HLSL30.v1.5"] .jp-EspriVre-facetCount'
        )?.textContent
      ).toBe('10');
      fireEvent.click(
        screen.getByRole('button', { name: 'Load more (10 of 324132 loaded)' })
      );
      await waitFor(() =>
        expect(resultCount(container).getAttribute('data-count')).toBe('20')
      );
      expect(requests.at(-1)).toBe(
        'GET https://cmr.earthdata.nasa.gov/stac/LPCLOUD/collections/HLSL30.v1.5/items?page=2'
      );
      const detail = openRecord(container, 'G1994512890-LPCLOUD');
      expect(
        detail.querySelector('.jp-EspriVre-datasetCode')?.textContent
      ).toBe(
        'import pystac_client\n\n' +
          'client = pystac_client.Client.open("https://planetarycomputer.microsoft.com/api/stac/v1")\n' +
          'item = next(client.search(collections=["HLSL30.v1.5"], ids=["G1994512890-LPCLOUD"]).items())\n' +
          'item\n'
      );
    });

    it('walks THREDDS catalogue references, naming those that fail', async () => {
      const { container } = renderCatalog('thredds', THREDDS);
      await settled(container);
      expect(resultCount(container).getAttribute('data-count')).toBe('3');
      const alert = container.querySelector('.jp-EspriVre-error');
      expect(alert?.textContent).toContain(
        'http://thredds.test/thredds/idd/forecastModels.xml'
      );
      const detail = openRecord(
        container,
        'ewc/work01/output/netcdf/totalEvaporation_dailyTot_output.nc'
      );
      expect(
        detail.querySelector('.jp-EspriVre-datasetCode')?.textContent
      ).toBe(
        'import xarray as xr\n\nds = xr.open_dataset("http://thredds.test/thredds/dodsC/ewc/work01/output/netcdf/totalEvaporation_dailyTot_output.nc")\nds\n'
      );
    });

    it('searches CSW with full text and pages by nextRecord', async () => {
      const { container } = renderCatalog('csw', CSW);
      await settled(container);
      expect(resultCount(container).getAttribute('data-count')).toBe('5');
      expect(resultCount(container).textContent).toContain(
        '12 match on the server'
      );
      const text = container.querySelector<HTMLInputElement>(
        '.jp-EspriVre-searchText'
      )!;
      fireEvent.change(text, { target: { value: 'lorem' } });
      fireEvent.submit(text.form!);
      await settled(container);
      expect(requests.at(-1)).toContain('<ogc:Literal>%lorem%</ogc:Literal>');
      const detail = openRecord(
        container,
        'urn:uuid:19887a8a-f6b0-4a63-ae56-7fba0e17801f'
      );
      expect(
        within(detail).getByRole('button', { name: 'Insert code' })
      ).toHaveProperty('disabled', true);
      expect(detail.textContent).toContain(
        'This record has no OPeNDAP, NetCDF or Zarr URL that xarray could open.'
      );
    });
  }
);

describe.skipIf(!HAVE_FIXTURES)(
  withFixtures('Catalogue Browser on bad answers'),
  () => {
    it.each([
      [
        'malformed JSON',
        'esgf',
        'http://broken.test/esg-search/search',
        'Cannot read ESGF search response: malformed JSON'
      ],
      [
        'an answer cut at the size limit',
        'esgf',
        'http://cut.test/esg-search/search',
        'was cut after 4096 bytes, the size limit of the server'
      ],
      [
        'a host the server does not allow',
        'esgf',
        'http://evil.test/esg-search/search',
        'The catalogue proxy may not reach the host evil.test'
      ],
      [
        'an unreachable server',
        'csw',
        'http://down.test/csw',
        'down.test:80 cannot be reached: connection refused.'
      ],
      [
        'an HTTP error of the catalogue server',
        'esgf',
        'http://failing.test/esg-search/search',
        'The catalogue server answered 500 Internal Server Error.'
      ],
      [
        'malformed XML',
        'thredds',
        'http://thredds.test/thredds/bad.xml',
        'Cannot read THREDDS catalogue http://thredds.test/thredds/bad.xml'
      ]
    ] as const)(
      'says what failed for %s, and asks again on Retry',
      async (_what, kind, url, message) => {
        const { container } = renderCatalog(kind, url);
        const alert = await screen.findByRole('alert');
        expect(alert.textContent).toContain(message);
        const before = requests.length;
        fireEvent.click(within(alert).getByRole('button', { name: 'Retry' }));
        await waitFor(() => expect(requests.length).toBeGreaterThan(before));
        expect(container.querySelector('.jp-EspriVre-retry')).toBeTruthy();
      }
    );

    it('disables Preview and Show on globe with the reason when they are absent', async () => {
      const { container } = renderCatalog(
        'stac',
        '/srv/stac/catalog.json',
        { events: [], pins: [] },
        false
      );
      await settled(container);
      const detail = openRecord(container, 'tas-item');
      expect(
        within(detail).getByRole('button', { name: 'Preview' })
      ).toHaveProperty('disabled', true);
      expect(
        within(detail).getByRole('button', { name: 'Show on globe' })
      ).toHaveProperty('disabled', true);
      expect(detail.textContent).toContain('No previewer is installed.');
      expect(detail.textContent).toContain('No globe is installed.');
    });
  }
);
