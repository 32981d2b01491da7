import { ApiError, NetworkError, type StatusResponse } from '@espri-vre/core';
import { nullTranslator } from '@jupyterlab/translation';
import { describe, expect, it } from 'vitest';
import {
  errorView,
  formatLatency,
  type IStatusRow,
  panelView,
  sections,
  sortRows
} from '../src/status-view';
import statusFixture from './fixtures/status.json';

const trans = nullTranslator.load('espri_vre');
const STATUS = statusFixture as StatusResponse;

describe('sections', () => {
  it('makes the catalogues, clusters and data roots sections in that order', () => {
    const result = sections(STATUS, trans);

    expect(result.map(s => [s.key, s.heading, s.summary])).toEqual([
      ['catalogs', 'Catalogues', '2 of 3 reachable'],
      ['clusters', 'Clusters', '1 of 2 reachable'],
      ['data-roots', 'Data roots', '1 of 1 reachable']
    ]);
  });

  it('gives each catalogue its kind, URL, state and latency, sorted by title', () => {
    const [catalogs] = sections(STATUS, trans);

    expect(catalogs.rows).toEqual([
      {
        id: 'demo-intake',
        title: 'CMIP6-like demo <img src=x onerror=alert(1)>',
        kind: 'intake-esm',
        location: '/srv/demo/intake/demo.json',
        reachable: true,
        stateLabel: 'reachable',
        latency: '1.5 s',
        detail: ''
      },
      {
        id: 'demo-stac',
        title: 'Demo STAC catalogue',
        kind: 'stac',
        location: '/srv/demo/stac/catalog.json',
        reachable: true,
        stateLabel: 'reachable',
        latency: '2 ms',
        detail: ''
      },
      {
        id: 'offline-esgf',
        title: 'ESGF index (closed port)',
        kind: 'esgf',
        location: 'http://127.0.0.1:9/esg-search/search',
        reachable: false,
        stateLabel: 'unreachable',
        latency: '3 ms',
        detail: 'Connection refused by 127.0.0.1:9 after 3 ms.'
      }
    ]);
  });

  it('says how each cluster is reached, and why one is not', () => {
    const [, clusters] = sections(STATUS, trans);

    expect(
      clusters.rows.map(r => [r.id, r.kind, r.location, r.stateLabel, r.detail])
    ).toEqual([
      [
        'slurm-local',
        'slurm',
        'on this server',
        'unreachable',
        'sinfo: error: Unable to contact slurm controller'
      ],
      ['local', 'local', 'on this server', 'reachable', '']
    ]);
  });

  it('gives data roots their path and no kind', () => {
    const [, , roots] = sections(STATUS, trans);

    expect(roots.rows).toEqual([
      {
        id: 'demo',
        title: 'Demo data',
        kind: null,
        location: '/srv/demo/data',
        reachable: true,
        stateLabel: 'reachable',
        latency: '0 ms',
        detail: ''
      }
    ]);
  });

  it('says so when nothing is configured, with no summary', () => {
    const empty = sections(
      { version: '0.1.0', catalogs: [], clusters: [], data_roots: [] },
      trans
    );

    expect(empty.map(s => [s.rows.length, s.summary, s.emptyMessage])).toEqual([
      [0, '', 'No catalogue is configured on this server.'],
      [0, '', 'No cluster is configured on this server.'],
      [0, '', 'No data root is configured on this server.']
    ]);
  });

  it('shows the id when a title is empty', () => {
    const [catalogs] = sections(
      {
        ...STATUS,
        catalogs: [{ ...STATUS.catalogs[0], id: 'untitled', title: '' }]
      },
      trans
    );

    expect(catalogs.rows[0].title).toBe('untitled');
  });
});

describe('sortRows', () => {
  const row = (id: string, title: string): IStatusRow => ({
    id,
    title,
    kind: null,
    location: '',
    reachable: true,
    stateLabel: 'reachable',
    latency: '',
    detail: ''
  });

  it('orders by title regardless of case, then by id', () => {
    const sorted = sortRows([
      row('b', 'beta'),
      row('z', 'Alpha'),
      row('a', 'alpha'),
      row('c', 'Gamma')
    ]);

    expect(sorted.map(r => r.id)).toEqual(['a', 'z', 'b', 'c']);
  });

  it('leaves its argument untouched', () => {
    const rows = [row('b', 'B'), row('a', 'A')];

    sortRows(rows);

    expect(rows.map(r => r.id)).toEqual(['b', 'a']);
  });
});

describe('formatLatency', () => {
  it('gives milliseconds below a second and seconds above', () => {
    expect(formatLatency(0.4, trans)).toBe('0 ms');
    expect(formatLatency(999.4, trans)).toBe('999 ms');
    expect(formatLatency(1000, trans)).toBe('1.0 s');
    expect(formatLatency(12345, trans)).toBe('12.3 s');
  });

  it('gives nothing when the check did not run', () => {
    expect(formatLatency(null, trans)).toBe('');
  });
});

describe('errorView', () => {
  it("quotes the server's error code and detail for an ApiError", () => {
    const error = new ApiError({
      status: 503,
      error: 'config-invalid',
      detail: "Catalogue 'x' has no url: fix jupyter_server_config.json.",
      url: 'http://localhost/espri-vre/api/status'
    });

    expect(errorView(error, trans)).toEqual({
      title: 'The server could not give its status (503, config-invalid).',
      detail: "Catalogue 'x' has no url: fix jupyter_server_config.json."
    });
  });

  it('tells to check the server for a NetworkError', () => {
    const error = new NetworkError(
      'http://localhost/espri-vre/api/status',
      new TypeError('fetch failed')
    );

    expect(errorView(error, trans)).toEqual({
      title: 'The Jupyter server could not be reached.',
      detail:
        'Check that the server is still running and that this computer is online, then retry.'
    });
  });

  it('shows the message of any other error', () => {
    expect(errorView(new Error('boom'), trans)).toEqual({
      title: 'The status of the server could not be read.',
      detail: 'boom'
    });
  });
});

describe('panelView', () => {
  it('is loading, with nothing to show, before the first answer', () => {
    const view = panelView(
      { state: 'loading', status: null, error: null },
      trans
    );

    expect(view).toEqual({
      loading: true,
      refreshing: false,
      error: null,
      version: null,
      sections: []
    });
  });

  it('keeps the last answer on screen while refreshing', () => {
    const view = panelView(
      { state: 'loading', status: STATUS, error: null },
      trans
    );

    expect(view.loading).toBe(false);
    expect(view.refreshing).toBe(true);
    expect(view.version).toBe('0.1.0');
    expect(view.sections[0].rows).toHaveLength(3);
  });

  it('shows the error and keeps the last answer when a refresh fails', () => {
    const view = panelView(
      { state: 'error', status: STATUS, error: new Error('boom') },
      trans
    );

    expect(view.error).toEqual({
      title: 'The status of the server could not be read.',
      detail: 'boom'
    });
    expect(view.sections).toHaveLength(3);
  });
});
