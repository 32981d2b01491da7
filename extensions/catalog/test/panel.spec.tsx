// @vitest-environment jsdom
import type { StatusResponse } from '@espri-vre/core';
import { ServerConnection } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';
import {
  act,
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
import { DATA_PANEL_ID, DataPanel, DataPanelComponent } from '../src/panel';
import { CatalogRegistry } from '../src/registry';
import statusFixture from './fixtures/status.json';

const STATUS = statusFixture as StatusResponse;
const trans = nullTranslator.load('espri_vre');

/**
 * A real HTTP server answering /espri-vre/api/status with the queued answers, the
 * last one repeated.
 */
let server: http.Server;
let baseUrl: string;
let answers: { status: number; body: string }[] = [];
let requests = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (!(req.url ?? '').startsWith('/espri-vre/api/status')) {
      res.writeHead(404).end();
      return;
    }
    requests += 1;
    const answer = answers.length > 1 ? answers.shift()! : answers[0];
    res
      .writeHead(answer.status, { 'Content-Type': 'application/json' })
      .end(answer.body);
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
  answers = [];
  requests = 0;
});

function answer(
  status: number,
  body: unknown
): { status: number; body: string } {
  return { status, body: JSON.stringify(body) };
}

function registryFor(url = baseUrl): CatalogRegistry {
  return new CatalogRegistry({
    serverSettings: ServerConnection.makeSettings({ baseUrl: url })
  });
}

function renderPanel(registry: CatalogRegistry) {
  return render(
    <DataPanelComponent
      registry={registry}
      trans={trans}
      onRefresh={() => void registry.refresh().catch(() => undefined)}
    />
  );
}

function rows(container: HTMLElement, selector: string) {
  return Array.from(container.querySelectorAll<HTMLLIElement>(selector));
}

describe('the Data panel', () => {
  it('lists the catalogues, clusters and data roots of the status answer', async () => {
    answers = [answer(200, STATUS)];
    const registry = registryFor();
    const { container } = renderPanel(registry);
    expect(screen.getByRole('status').textContent).toBe(
      'Checking the catalogues, clusters and data roots…'
    );

    await act(() => registry.refresh());

    const catalogs = rows(container, 'li.jp-EspriVre-catalogItem');
    expect(
      catalogs.map(li => [li.dataset.catalogId, li.dataset.reachable])
    ).toEqual([
      ['demo-intake', 'true'],
      ['demo-stac', 'true'],
      ['offline-esgf', 'false']
    ]);
    const stac = catalogs[1];
    expect(stac.textContent).toContain('Demo STAC catalogue');
    expect(stac.textContent).toContain('stac');
    expect(stac.textContent).toMatch(/\breachable\b/);
    const offline = catalogs[2];
    expect(offline.textContent).toContain('ESGF index (closed port)');
    expect(offline.textContent).toContain('unreachable');
    expect(offline.querySelector('.jp-EspriVre-itemDetail')?.textContent).toBe(
      'Connection refused by 127.0.0.1:9 after 3 ms.'
    );

    expect(
      rows(container, 'li.jp-EspriVre-clusterItem').map(li => [
        li.dataset.clusterId,
        li.dataset.reachable
      ])
    ).toEqual([
      ['slurm-local', 'false'],
      ['local', 'true']
    ]);
    expect(
      rows(container, 'li.jp-EspriVre-dataRootItem').map(li => [
        li.dataset.rootId,
        li.dataset.reachable,
        li.textContent!.replace(/\s+/g, ' ').trim()
      ])
    ).toEqual([['demo', 'true', 'Demo data reachable 0 ms /srv/demo/data']]);
    expect(screen.getByRole('status').textContent).toBe('');
    expect(screen.getByText('espri-vre server 0.1.0')).toBeTruthy();
  });

  it('labels each list with its section heading for assistive technology', async () => {
    answers = [answer(200, STATUS)];
    const registry = registryFor();
    renderPanel(registry);

    await act(() => registry.refresh());

    const lists = screen.getAllByRole('list');
    expect(
      lists.map(list => [
        document.getElementById(list.getAttribute('aria-labelledby')!)
          ?.firstChild?.textContent,
        within(list).getAllByRole('listitem').length
      ])
    ).toEqual([
      ['Catalogues', 3],
      ['Clusters', 2],
      ['Data roots', 1]
    ]);
    expect(screen.getByRole('button', { name: 'Refresh' }).className).toContain(
      'jp-EspriVre-refresh'
    );
  });

  it('renders catalogue text as text, never as HTML', async () => {
    answers = [answer(200, STATUS)];
    const registry = registryFor();
    const { container } = renderPanel(registry);

    await act(() => registry.refresh());

    const intake = container.querySelector(
      'li[data-catalog-id="demo-intake"] .jp-EspriVre-itemTitle'
    )!;
    expect(intake.textContent).toBe(
      'CMIP6-like demo <img src=x onerror=alert(1)>'
    );
    expect(container.querySelector('img')).toBeNull();
  });

  it("shows the server's error and retries when asked", async () => {
    answers = [
      answer(503, {
        error: 'config-invalid',
        detail: "Catalogue 'x' has no url: fix jupyter_server_config.json."
      }),
      answer(200, STATUS)
    ];
    const registry = registryFor();
    const { container } = renderPanel(registry);

    await act(() => registry.refresh().catch(() => undefined));

    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain(
      'The server could not give its status (503, config-invalid).'
    );
    expect(alert.textContent).toContain(
      "Catalogue 'x' has no url: fix jupyter_server_config.json."
    );
    expect(rows(container, 'li.jp-EspriVre-catalogItem')).toHaveLength(0);

    fireEvent.click(within(alert).getByRole('button', { name: 'Retry' }));

    await waitFor(() =>
      expect(rows(container, 'li.jp-EspriVre-catalogItem')).toHaveLength(3)
    );
    expect(screen.queryByRole('alert')).toBeNull();
    expect(requests).toBe(2);
  });

  it('says the server could not be reached when nothing listens', async () => {
    const closed = http.createServer();
    await new Promise<void>(resolve => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise(resolve => closed.close(resolve));
    const registry = registryFor(`http://127.0.0.1:${port}/`);
    renderPanel(registry);

    await act(() => registry.refresh().catch(() => undefined));

    expect(screen.getByRole('alert').textContent).toContain(
      'The Jupyter server could not be reached.'
    );
    expect(registry.state).toBe('error');
  });

  it('asks the server again when the refresh button is pressed', async () => {
    answers = [answer(200, STATUS)];
    const registry = registryFor();
    const { container } = renderPanel(registry);
    await act(() => registry.refresh());
    expect(requests).toBe(1);

    fireEvent.click(container.querySelector('button.jp-EspriVre-refresh')!);

    await waitFor(() => expect(registry.state).toBe('ready'));
    expect(requests).toBe(2);
  });
});

describe('opening from the Data panel', () => {
  it('opens a catalogue from its row and a data root from its row, by click or key', async () => {
    answers = [answer(200, STATUS)];
    const registry = registryFor();
    const opened: string[] = [];
    const { container } = render(
      <DataPanelComponent
        registry={registry}
        trans={trans}
        onRefresh={() => undefined}
        onOpenCatalog={id => opened.push(`catalog ${id}`)}
        onOpenRoot={id => opened.push(`root ${id}`)}
      />
    );
    await act(() => registry.refresh());

    const root = rows(container, 'li.jp-EspriVre-dataRootItem')[0];
    expect(root.getAttribute('role')).toBe('button');
    expect(root.title).toBe(
      'Browse the data root Demo data in the file browser'
    );
    fireEvent.click(root);
    fireEvent.keyDown(root, { key: 'Enter' });
    fireEvent.click(rows(container, 'li.jp-EspriVre-catalogItem')[1]);
    // Clusters open nothing.
    const cluster = rows(container, 'li.jp-EspriVre-clusterItem')[0];
    expect(cluster.getAttribute('role')).toBeNull();
    fireEvent.click(cluster);
    expect(opened).toEqual(['root demo', 'root demo', 'catalog demo-stac']);
  });
});

describe('DataPanel', () => {
  it('has the id espri-vre-data-panel and loads the status when first shown', async () => {
    answers = [answer(200, STATUS)];
    const registry = registryFor();
    const panel = new DataPanel({ registry, trans });

    Widget.attach(panel, document.body);

    try {
      expect(panel.node.id).toBe(DATA_PANEL_ID);
      expect(document.getElementById('espri-vre-data-panel')).toBe(panel.node);
      await waitFor(() =>
        expect(
          panel.node.querySelectorAll('li.jp-EspriVre-catalogItem')
        ).toHaveLength(3)
      );
      expect(requests).toBe(1);
    } finally {
      Widget.detach(panel);
      panel.dispose();
    }
  });

  it('refreshes on its interval only while visible', async () => {
    answers = [answer(200, STATUS)];
    const registry = registryFor();
    const panel = new DataPanel({ registry, trans });
    Widget.attach(panel, document.body);

    try {
      panel.autoRefreshSeconds = 0.05;
      await waitFor(() => expect(requests).toBeGreaterThanOrEqual(3));
      panel.hide();
      await waitFor(() => expect(registry.state).toBe('ready'));
      const whenHidden = requests;
      await new Promise(resolve => setTimeout(resolve, 200));

      expect(requests).toBe(whenHidden);
    } finally {
      Widget.detach(panel);
      panel.dispose();
    }
  });
});

describe('CatalogRegistry', () => {
  it('sends one new request per refresh and settles every caller with the newest answer', async () => {
    answers = [answer(200, STATUS)];
    const registry = registryFor();
    const states: string[] = [];
    registry.changed.connect(() => states.push(registry.state));

    const first = registry.refresh();
    const second = registry.refresh();
    const [a, b] = await Promise.all([first, second]);

    expect(a).toEqual(STATUS);
    expect(b).toBe(a);
    expect(registry.get('offline-esgf')?.reachable).toBe(false);
    expect(registry.dataRoots.map(r => r.id)).toEqual(['demo']);
    expect(states).toEqual(['loading', 'loading', 'ready']);
  });
});
