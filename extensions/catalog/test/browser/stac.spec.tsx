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
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as React from 'react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CatalogBrowserView } from '../../src/browser/browser';

const trans = nullTranslator.load('espri_vre');

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

let server: http.Server;
let baseUrl: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = (req.url ?? '').split('?')[0];
    const doc = DOCUMENTS[url];
    if (doc === undefined) {
      res
        .writeHead(404, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ error: 'not-found', detail: `No file ${url}.` }));
      return;
    }
    res
      .writeHead(200, { 'Content-Type': 'application/json' })
      .end(JSON.stringify(doc));
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise(resolve => server.close(resolve));
});

afterEach(cleanup);

function renderStac(url: string) {
  return render(
    <CatalogBrowserView
      catalog={{ id: 'demo-stac', title: 'Demo STAC', kind: 'stac', url }}
      settings={ServerConnection.makeSettings({ baseUrl })}
      trans={trans}
      actions={{
        insertCode: async () => undefined,
        copyCode: () => undefined,
        previewUnavailable: () => null,
        preview: async () => undefined
      }}
      signal={new AbortController().signal}
      serverFileUrl={path =>
        path.startsWith('/srv/')
          ? `${baseUrl}files/${path.slice('/srv/'.length)}`
          : null
      }
    />
  );
}

describe('Catalogue Browser on a static STAC catalogue', () => {
  it('lists the items it walks to, says which documents failed, and shows assets', async () => {
    const { container } = renderStac('/srv/stac/catalog.json');
    await waitFor(() =>
      expect(
        container
          .querySelector('.jp-EspriVre-resultCount')
          ?.getAttribute('aria-busy')
      ).toBe('false')
    );
    expect(
      container
        .querySelector('.jp-EspriVre-resultCount')
        ?.getAttribute('data-count')
    ).toBe('1');
    expect(screen.getByRole('alert').textContent).toContain(
      'No file /files/stac/c/gone/gone.json.'
    );
    const item = container.querySelector<HTMLElement>(
      'li.jp-EspriVre-dataset[data-key="tas-item"]'
    )!;
    expect(item.textContent).toBe(
      'Near-surface air temperature <script>x</script>'
    );
    expect(container.querySelector('script')).toBeNull();
    fireEvent.click(within(item).getByRole('button'));
    expect(
      container.querySelector('.jp-EspriVre-datasetAssets li')?.textContent
    ).toContain(`${baseUrl}files/data/tas.nc`);
  });

  it('says why when the root cannot be read, and reads it again on Retry', async () => {
    renderStac('/srv/nowhere/catalog.json');
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain(
      'The STAC catalogue could not be read.'
    );
    expect(alert.textContent).toContain('No file /files/nowhere/catalog.json.');
    expect(within(alert).getByRole('button', { name: 'Retry' })).toBeTruthy();
  });

  it('explains that a catalogue outside the served roots cannot be browsed', () => {
    const { container } = renderStac('/elsewhere/catalog.json');
    expect(
      container.querySelector('.jp-EspriVre-unsupported')?.textContent
    ).toContain('outside the server root and the data roots');
  });
});
