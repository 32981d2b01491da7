import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

import {
  StacWalkEntry,
  buildStacSearchRequest,
  nextStacRequest,
  parseStacCollections,
  parseStacConformance,
  parseStacItemCollection,
  parseStacLandingPage,
  stacConformance,
  walkStaticCatalog
} from '../../src/adapters/stac';
import {
  decodeMultihash,
  parseStacCollection,
  parseStacItem
} from '../../src/adapters/stac-record';
import { CatalogParseError, toDatasetReference } from '../../src/record';
import {
  HAVE_FIXTURES,
  fixturePath,
  readFixture,
  withFixtures
} from './fixtures';

const LANDING =
  'stac_api_landing_page_planetary-computer_root_conformsTo__pystac-client.json';
const ITEMS =
  'stac_api_search_ItemCollection_HLS_10items_numberMatched_context_next__pystac-client.json';
const CMIP6_ITEM =
  'stac_Item_CMIP6_ESGF-NG_IPSL-CM6A-LR_ssp119__stac-extensions-cmip6_example.json';
const COLLECTION = 'stac_Collection_planetary-computer_gap__pystac-client.json';
const STATIC_ROOT =
  'stac_static_catalog_test-case-1__pystac-client/catalog.json';

const PC = 'https://planetarycomputer.microsoft.com/api/stac/v1';

const FILTER_CONFORMANCE = stacConformance([
  'https://api.stacspec.org/v1.0.0/core',
  'https://api.stacspec.org/v1.0.0/item-search',
  'https://api.stacspec.org/v1.0.0-rc.2/item-search#filter',
  'http://www.opengis.net/spec/cql2/1.0/conf/cql2-text',
  'http://www.opengis.net/spec/cql2/1.0/conf/cql2-json',
  'http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2'
]);

describe.skipIf(!HAVE_FIXTURES)(
  withFixtures('parseStacLandingPage on the Planetary Computer root'),
  () => {
    const page = HAVE_FIXTURES
      ? parseStacLandingPage(readFixture(LANDING), `${PC}/`)
      : undefined;

    it('reads id, title and links', () => {
      expect(page?.id).toBe('microsoft-pc');
      expect(page?.title).toBe('Microsoft Planetary Computer STAC API');
      expect(page?.stacVersion).toBe('1.0.0-beta.2');
      expect(page?.searchUrl).toBe(`${PC}/search`);
      expect(page?.searchMethods).toEqual(['GET', 'POST']);
      expect(page?.collectionsUrl).toBe(`${PC}/collections`);
      expect(page?.conformanceUrl).toBe(`${PC}/conformance`);
      expect(page?.children.map(link => [link.title, link.href])).toEqual([
        ['ASTER L1T', `${PC}/collections/aster-l1t`],
        ['Landsat 8 Collection 2 Level-2', `${PC}/collections/landsat-8-c2-l2`],
        ['Sentinel-2 Level-2A', `${PC}/collections/sentinel-2-l2a`],
        ['NAIP: National Agriculture Imagery Program', `${PC}/collections/naip`]
      ]);
    });

    it('reads which conformance classes the API declares', () => {
      expect(page?.conformsTo).toHaveLength(6);
      expect(page?.conformance).toEqual({
        core: true,
        collections: true,
        features: true,
        itemSearch: true,
        filter: false,
        cql2Text: false,
        cql2Json: false,
        sort: false,
        fields: false,
        query: false
      });
    });
  }
);

describe('parseStacConformance', () => {
  it('recognises the Filter extension and both CQL2 encodings', () => {
    const { conformance } = parseStacConformance({
      conformsTo: [
        'https://api.stacspec.org/v1.0.0/item-search',
        'https://api.stacspec.org/v1.0.0/item-search#sort',
        'http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter',
        'http://www.opengis.net/spec/cql2/1.0/conf/cql2-json'
      ]
    });
    expect(conformance).toMatchObject({
      itemSearch: true,
      sort: true,
      filter: true,
      cql2Json: true,
      cql2Text: false
    });
  });

  it('says an answer without conformsTo is not a conformance declaration', () => {
    expect(() => parseStacConformance('{}')).toThrow(
      'Cannot read STAC conformance declaration: no "conformsTo" list'
    );
  });
});

describe('buildStacSearchRequest', () => {
  const params = {
    bbox: [-10, 35, 30, 70] as [number, number, number, number],
    datetime: { start: '2015-01-01T00:00:00Z' },
    collections: ['CMIP6'],
    ids: ['a', 'b'],
    limit: 50
  };

  it('puts the parameters in the query string of a GET', () => {
    expect(buildStacSearchRequest(`${PC}/search`, params)).toEqual({
      method: 'GET',
      url: `${PC}/search?bbox=-10%2C35%2C30%2C70&datetime=2015-01-01T00%3A00%3A00Z%2F..&collections=CMIP6&ids=a%2Cb&limit=50`
    });
  });

  it('puts them in the JSON body of a POST', () => {
    expect(
      buildStacSearchRequest(`${PC}/search`, params, { method: 'POST' })
    ).toEqual({
      method: 'POST',
      url: `${PC}/search`,
      body: {
        bbox: [-10, 35, 30, 70],
        datetime: '2015-01-01T00:00:00Z/..',
        collections: ['CMIP6'],
        ids: ['a', 'b'],
        limit: 50
      },
      headers: { 'Content-Type': 'application/json' }
    });
  });

  it('sends a CQL2 filter with its language to a server that conforms', () => {
    const text = buildStacSearchRequest(
      `${PC}/search`,
      { collections: ['CMIP6'], filter: "cmip6:experiment_id = 'ssp585'" },
      { conformance: FILTER_CONFORMANCE }
    );
    expect(text.url).toBe(
      `${PC}/search?collections=CMIP6&filter=cmip6%3Aexperiment_id+%3D+%27ssp585%27&filter-lang=cql2-text`
    );
    const filter = {
      op: '=',
      args: [{ property: 'cmip6:experiment_id' }, 'ssp585']
    };
    const json = buildStacSearchRequest(
      `${PC}/search`,
      { filter },
      { method: 'POST', conformance: FILTER_CONFORMANCE }
    );
    expect(json.body).toEqual({ filter, 'filter-lang': 'cql2-json' });
  });

  it('refuses a filter for a server without the Filter extension', () => {
    expect(() =>
      buildStacSearchRequest(`${PC}/search`, { filter: 'eo:cloud_cover < 10' })
    ).toThrow(/does not declare the Filter extension/);
    const textOnly = { ...FILTER_CONFORMANCE, cql2Json: false };
    expect(() =>
      buildStacSearchRequest(
        `${PC}/search`,
        { filter: { op: 'isNull', args: [] } },
        { conformance: textOnly }
      )
    ).toThrow('This STAC API does not declare cql2-json filters');
  });
});

describe('nextStacRequest', () => {
  const first = buildStacSearchRequest(
    `${PC}/search`,
    { collections: ['CMIP6'], limit: 10 },
    { method: 'POST' }
  );

  it('follows a GET next link', () => {
    expect(
      nextStacRequest(first, { rel: 'next', href: `${PC}/search?token=abc` })
    ).toEqual({
      method: 'GET',
      url: `${PC}/search?token=abc`
    });
  });

  it('merges a POST next link body into the previous body when asked', () => {
    const next = nextStacRequest(first, {
      rel: 'next',
      href: `${PC}/search`,
      method: 'POST',
      body: { token: 'next:xyz' },
      merge: true
    });
    expect(next.body).toEqual({
      collections: ['CMIP6'],
      limit: 10,
      token: 'next:xyz'
    });
    const replaced = nextStacRequest(first, {
      rel: 'next',
      href: `${PC}/search`,
      method: 'POST',
      body: { token: 't' }
    });
    expect(replaced.body).toEqual({ token: 't' });
  });
});

describe.skipIf(!HAVE_FIXTURES)(
  withFixtures('parseStacItemCollection on a recorded HLS search page'),
  () => {
    const url =
      'https://cmr.earthdata.nasa.gov/stac/LPCLOUD/collections/HLSL30.v1.5/items';
    const page = HAVE_FIXTURES
      ? parseStacItemCollection(readFixture(ITEMS), url, 'cmr')
      : undefined;

    it('reads counts and the next link', () => {
      expect(page?.matched).toBe(324132);
      expect(page?.returned).toBe(10);
      expect(page?.records).toHaveLength(10);
      expect(page?.next).toEqual({
        rel: 'next',
        method: 'GET',
        href: `${url}?page=2`
      });
    });

    it('falls back to context.matched', () => {
      const doc = JSON.parse(readFixture(ITEMS)) as Record<string, unknown>;
      delete doc.numberMatched;
      delete doc.numberReturned;
      const fallback = parseStacItemCollection(doc, url, 'cmr');
      expect(fallback.matched).toBe(324132);
      expect(fallback.returned).toBe(10);
    });

    it('reads items into records', () => {
      const records = page!.records;
      expect(records.map(record => record.id)).toEqual([
        'G1994512890-LPCLOUD',
        'G1996013881-LPCLOUD',
        'G1996014088-LPCLOUD',
        'G1996014249-LPCLOUD',
        'G1996014444-LPCLOUD',
        'G1996014471-LPCLOUD',
        'G1994877008-LPCLOUD',
        'G1994877369-LPCLOUD',
        'G1994873598-LPCLOUD',
        'G1994873826-LPCLOUD'
      ]);
      const first = records[0];
      expect(first.source).toEqual({ catalog_id: 'cmr', kind: 'stac' });
      expect(first.facets).toEqual({ collection: ['HLSL30.v1.5'] });
      expect(first.spatial?.bbox).toEqual([
        -177.000255, -45.241333, -176.422307, -44.251417
      ]);
      expect(first.spatial?.geometry?.type).toBe('Polygon');
      expect(first.temporal).toEqual({
        start: '2021-01-01T21:31:13.552Z',
        end: '2021-01-01T21:31:13.552Z'
      });
      expect(first.access).toHaveLength(17);
      expect(first.access[0]).toEqual({
        url: 'https://lpdaac.earthdata.nasa.gov/lp-prod-protected/HLSL30.015/HLS.L30.T01GEL.2021001T213113.v1.5.B09.tif',
        protocol: 'http',
        name: 'B09',
        description: 'Download HLS.L30.T01GEL.2021001T213113.v1.5.B09.tif'
      });
      expect(
        first.access.find(access => access.name === 'browse')?.media_type
      ).toBe('image/jpeg');
      expect(records[9].spatial?.bbox).toEqual([
        175.212483, -1.897566, 176.189322, -0.904024
      ]);
    });
  }
);

describe.skipIf(!HAVE_FIXTURES)(
  withFixtures('parseStacItem on an ESGF CMIP6 item'),
  () => {
    const url =
      'https://integration-testing.api.stac.esgf-west.org/collections/CMIP6/items/CMIP6.ScenarioMIP.IPSL.IPSL-CM6A-LR.ssp119.r4i1p1f1.CFmon.clcalipso.gr.v20191122';
    const record = HAVE_FIXTURES
      ? parseStacItem(readFixture(CMIP6_ITEM), url, 'esgf-stac')
      : undefined;
    const dataset =
      'CMIP6.ScenarioMIP.IPSL.IPSL-CM6A-LR.ssp119.r4i1p1f1.CFmon.clcalipso.gr';

    it('makes the cmip6:* properties facets', () => {
      expect(record?.id).toBe(`${dataset}.v20191122`);
      expect(record?.title).toBe(dataset);
      expect(record?.facets).toEqual({
        collection: ['CMIP6'],
        grid: ['LMDZ grid'],
        experiment: ['low-end scenario reaching 1.9 W m-2, based on SSP1'],
        activity_id: ['ScenarioMIP'],
        data_specs_version: ['01.00.28'],
        experiment_id: ['ssp119'],
        frequency: ['mon'],
        grid_label: ['gr'],
        institution_id: ['IPSL'],
        member_id: ['r4i1p1f1'],
        nominal_resolution: ['250 km'],
        product: ['model-output'],
        realm: ['atmos'],
        source_id: ['IPSL-CM6A-LR'],
        source_type: ['AOGCM', 'BGC'],
        sub_experiment_id: ['none'],
        table_id: ['CFmon'],
        variable_id: ['clcalipso'],
        variant_label: ['r4i1p1f1']
      });
    });

    it('reads the variable, extent, version, size and checksum', () => {
      expect(record?.variables).toEqual([
        {
          name: 'clcalipso',
          long_name: 'CALIPSO Percentage Cloud Cover',
          units: '%',
          standard_name: 'cloud_area_fraction_in_atmosphere_layer'
        }
      ]);
      expect(record?.spatial?.bbox).toEqual([0, -90, 357.5, 90]);
      expect(record?.temporal).toEqual({
        start: '2015-01-16T12:00:00Z',
        end: '2015-01-16T12:00:00Z'
      });
      expect(record?.version).toBe('20191122');
      expect(record?.size).toBe(1691149215);
      expect(record?.checksum).toEqual({
        type: 'SHA256',
        value:
          'fc151c37b78dd4534478975bffaf58b70acdd49ee4541de84ebb221be3ce756a'
      });
      expect(record?.dates).toEqual({
        created: '2026-03-06T01:15:44Z',
        modified: '2026-03-06T01:15:44Z'
      });
    });

    it('reads identifiers and the citation link', () => {
      expect(record?.identifiers).toEqual({
        pid: 'hdl:21.14100/eecd8a20-295d-4a51-a806-feefea8fba66',
        tracking_ids: ['hdl:21.14100/eecd8a20-295d-4a51-a806-feefea8fba66'],
        instance_id: `${dataset}.v20191122`,
        master_id: dataset
      });
      expect(record?.citation).toEqual({
        text: `IPSL: ${dataset}. Version 20191122. Earth System Grid Federation. https://hdl.handle.net/21.14100/eecd8a20-295d-4a51-a806-feefea8fba66`,
        url: `https://cera-www.dkrz.de/WDCC/meta/CMIP6/${dataset}.v20191122.json`
      });
    });

    it('reads assets into access URLs with protocol, media type and roles', () => {
      const file =
        'clcalipso_CFmon_IPSL-CM6A-LR_ssp119_r4i1p1f1_gr_201501-210012.nc';
      expect(
        record?.access.map(access => [
          access.protocol,
          access.media_type,
          access.roles,
          access.size
        ])
      ).toEqual([
        ['globus', 'text/html', ['data'], undefined],
        ['http', 'application/netcdf', ['data'], 1691149215]
      ]);
      expect(record?.access[1].url).toBe(
        `https://g-eba899.6b7bd8.0ec8.data.globus.org//css03_data/CMIP6/ScenarioMIP/IPSL/IPSL-CM6A-LR/ssp119/r4i1p1f1/CFmon/clcalipso/gr/v20191122/${file}`
      );
      expect(record?.access[1].name).toBe(file);
    });

    it('passes only openable URLs on in its DatasetReference', () => {
      const reference = toDatasetReference(record!);
      expect(reference.access.map(access => access.protocol)).toEqual(['http']);
      expect(reference.media_type).toBe('application/netcdf');
      expect(reference.identifiers.version).toBe('20191122');
      expect(reference.size).toBe(1691149215);
    });
  }
);

describe('stac assets', () => {
  it('recognises Zarr, S3 and kerchunk assets, and decodes multihashes', () => {
    const item = {
      type: 'Feature',
      id: 'tas',
      geometry: null,
      properties: { datetime: '2000-01-01T00:00:00Z' },
      links: [],
      assets: {
        zarr: {
          href: 'https://data.example/tas.zarr',
          type: 'application/vnd+zarr',
          roles: ['data']
        },
        s3: {
          href: 's3://bucket/tas.nc',
          type: 'application/x-netcdf',
          roles: ['data']
        },
        refs: {
          href: './tas.json',
          type: 'application/vnd+kerchunk+json',
          roles: ['references']
        },
        thumb: {
          href: 'javascript:alert(1)',
          type: 'image/png',
          roles: ['thumbnail']
        }
      }
    };
    const record = parseStacItem(
      item,
      'https://data.example/items/tas.json',
      'demo'
    );
    expect(record.access.map(access => [access.protocol, access.url])).toEqual([
      ['zarr', 'https://data.example/tas.zarr'],
      ['s3', 's3://bucket/tas.nc'],
      ['kerchunk', 'https://data.example/items/tas.json']
    ]);
    expect(decodeMultihash('d50110' + 'ab'.repeat(16))).toEqual({
      type: 'MD5',
      value: 'ab'.repeat(16)
    });
    expect(decodeMultihash('ff00')).toEqual({
      type: 'MULTIHASH',
      value: 'ff00'
    });
  });
});

describe.skipIf(!HAVE_FIXTURES)(
  withFixtures('parseStacCollection on the Planetary Computer gap collection'),
  () => {
    const record = HAVE_FIXTURES
      ? parseStacCollection(
          readFixture(COLLECTION),
          `${PC}/collections/gap`,
          'pc'
        )
      : undefined;

    it('reads title, text and keywords', () => {
      expect(record?.id).toBe('gap');
      expect(record?.title).toBe('USGS Gap Land Cover');
      expect(
        record?.description?.startsWith(
          'The USGS GAP/LANDFIRE National Terrestrial Ecosystems data'
        )
      ).toBe(true);
      expect(record?.facets.keywords).toEqual([
        'USGS',
        'GAP',
        'LANDFIRE',
        'Land Cover',
        'United States'
      ]);
      expect(record?.facets.providers).toEqual(['USGS', 'Microsoft']);
    });

    it('covers all the extent boxes and reads the interval', () => {
      expect(record?.spatial?.bbox).toEqual([
        -178.13166387448902, 17.874066536543, 179.87849702345594,
        71.43382483774205
      ]);
      expect(record?.temporal).toEqual({
        start: '1999-01-01T00:00:00Z',
        end: '2011-12-31T00:00:00Z'
      });
    });

    it('reads the licence and its link', () => {
      expect(record?.licence).toEqual({
        text: 'proprietary',
        url: 'https://www.usgs.gov/core-science-systems/hdds/data-policy'
      });
    });

    it('lists the assets and the items endpoint', () => {
      expect(
        record?.access.map(access => access.name ?? access.description)
      ).toEqual([
        'thumbnail',
        'original-data-ak',
        'original-data-hi',
        'original-data-pr',
        'original-data-conus',
        'STAC items'
      ]);
      expect(record?.access[5]).toEqual({
        url: `${PC}/collections/gap/items`,
        protocol: 'stac',
        media_type: 'application/geo+json',
        description: 'STAC items'
      });
      expect(record?.access[1]).toMatchObject({
        url: 'https://ai4edataeuwest.blob.core.windows.net/usgs-gap/originals/gaplandcov_ak.zip',
        protocol: 'http',
        media_type: 'application/zip',
        description: 'Alaska source data'
      });
    });

    it('reads a /collections answer', () => {
      const collection = JSON.parse(readFixture(COLLECTION)) as unknown;
      const result = parseStacCollections(
        { collections: [collection], links: [] },
        `${PC}/collections`,
        'pc'
      );
      expect(result.records.map(item => item.id)).toEqual(['gap']);
      expect(result.next).toBeUndefined();
    });
  }
);

async function collect(
  walk: AsyncGenerator<StacWalkEntry>
): Promise<StacWalkEntry[]> {
  const entries: StacWalkEntry[] = [];
  for await (const entry of walk) {
    entries.push(entry);
  }
  return entries;
}

describe.skipIf(!HAVE_FIXTURES)(
  withFixtures('walkStaticCatalog on the static catalogue test-case-1'),
  () => {
    const root = HAVE_FIXTURES
      ? pathToFileURL(fixturePath(STATIC_ROOT)).href
      : '';
    const fetched: string[] = [];
    const readJson = (url: string): Promise<unknown> => {
      fetched.push(url);
      return Promise.resolve(readFileSync(fileURLToPath(url), 'utf-8'));
    };

    it('yields every catalogue, collection and item, depth first, with relative hrefs resolved', async () => {
      const entries = await collect(
        walkStaticCatalog(readJson, root, { catalogId: 'static' })
      );
      expect(entries).toHaveLength(15);
      expect(
        entries.map(entry =>
          entry.kind === 'error'
            ? 'error'
            : `${entry.kind}:${entry.record.id}:${entry.depth}`
        )
      ).toEqual([
        'catalog:test:0',
        'catalog:country-1:1',
        'collection:area-1-1:2',
        'item:area-1-1-imagery:3',
        'item:area-1-1-labels:3',
        'collection:area-1-2:2',
        'item:area-1-2-imagery:3',
        'item:area-1-2-labels:3',
        'catalog:country-2:1',
        'collection:area-2-1:2',
        'item:area-2-1-imagery:3',
        'item:area-2-1-labels:3',
        'collection:area-2-2:2',
        'item:area-2-2-imagery:3',
        'item:area-2-2-labels:3'
      ]);
      const imagery = entries[3];
      const collection = entries[2];
      expect(imagery.url).toBe(
        new URL(
          'country-1/area-1-1/area-1-1-imagery/area-1-1-imagery.json',
          root
        ).href
      );
      expect(imagery.parentUrl).toBe(
        new URL('country-1/area-1-1/collection.json', root).href
      );
      if (imagery.kind !== 'item' || collection.kind !== 'collection') {
        throw new Error('unexpected entry kinds');
      }
      expect(
        imagery.record.access.map(access => [
          access.name,
          access.url,
          access.media_type
        ])
      ).toEqual([
        [
          'ortho',
          'http://example.com/area-1-1_ortho.tif',
          'image/vnd.stac.geotiff'
        ],
        ['dsm', 'http://example.com/area-1-1_dsm.tif', 'image/vnd.stac.geotiff']
      ]);
      expect(imagery.record.temporal).toEqual({
        start: '2019-10-04T18:55:37Z',
        end: '2019-10-04T18:55:37Z'
      });
      expect(collection.record.spatial?.bbox).toEqual([
        -2.5048828125, 3.8916575492899987, -1.9610595703125, 4.275202171119132
      ]);
      expect(collection.record.temporal).toEqual({
        start: '2019-10-04T18:55:37Z'
      });
      expect(collection.record.licence).toEqual({ text: 'other' });
    });

    it('fetches lazily: only what the consumer asked for', async () => {
      fetched.length = 0;
      const walk = walkStaticCatalog(readJson, root, { catalogId: 'static' });
      await walk.next();
      await walk.next();
      await walk.return(undefined);
      expect(fetched).toEqual([
        root,
        new URL('country-1/catalog.json', root).href
      ]);
    });

    it('stops at the maximum depth', async () => {
      const entries = await collect(
        walkStaticCatalog(readJson, root, { catalogId: 'static', maxDepth: 1 })
      );
      expect(
        entries.map(entry =>
          entry.kind === 'error' ? 'error' : entry.record.id
        )
      ).toEqual(['test', 'country-1', 'country-2']);
    });
  }
);

describe('walkStaticCatalog on catalogues that link in circles or break', () => {
  const documents: Record<string, unknown> = {
    'https://stac.example/catalog.json': {
      type: 'Catalog',
      id: 'root',
      stac_version: '1.0.0',
      description: 'root',
      links: [
        { rel: 'child', href: 'a/catalog.json' },
        { rel: 'child', href: 'broken/catalog.json' },
        { rel: 'child', href: './catalog.json' }
      ]
    },
    'https://stac.example/a/catalog.json': {
      type: 'Catalog',
      id: 'a',
      stac_version: '1.0.0',
      description: 'a',
      links: [
        { rel: 'child', href: '../catalog.json' },
        { rel: 'child', href: '../a/catalog.json#self' }
      ]
    },
    'https://stac.example/broken/catalog.json':
      '<html><head><title>404 Not Found</title></head></html>'
  };
  const fetchJson = (url: string): Promise<unknown> =>
    url in documents
      ? Promise.resolve(documents[url])
      : Promise.reject(new Error(`no ${url}`));

  it('visits each document once and reports a broken child without stopping', async () => {
    const entries = await collect(
      walkStaticCatalog(fetchJson, 'https://stac.example/catalog.json', {
        catalogId: 'x'
      })
    );
    expect(entries.map(entry => [entry.kind, entry.url])).toEqual([
      ['catalog', 'https://stac.example/catalog.json'],
      ['catalog', 'https://stac.example/a/catalog.json'],
      ['error', 'https://stac.example/broken/catalog.json']
    ]);
    const error = entries[2];
    expect(error.kind === 'error' && error.error.message).toBe(
      'Cannot read STAC document https://stac.example/broken/catalog.json: expected JSON but got an HTML page titled "404 Not Found"'
    );
  });

  it('throws when the root cannot be read', async () => {
    await expect(
      collect(
        walkStaticCatalog(
          fetchJson,
          'https://stac.example/broken/catalog.json',
          { catalogId: 'x' }
        )
      )
    ).rejects.toThrow(CatalogParseError);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    const walk = walkStaticCatalog(
      fetchJson,
      'https://stac.example/catalog.json',
      {
        catalogId: 'x',
        signal: controller.signal
      }
    );
    await walk.next();
    controller.abort();
    await expect(walk.next()).rejects.toThrow();
  });
});

describe('STAC bad input', () => {
  it('says malformed JSON is malformed', () => {
    expect(() =>
      parseStacItemCollection(
        '{"features": [',
        'https://stac.example/search',
        'x'
      )
    ).toThrow(
      /Cannot read STAC item page https:\/\/stac.example\/search: malformed JSON/
    );
  });

  it('says an HTML page is not a landing page', () => {
    expect(() =>
      parseStacLandingPage(
        '<!doctype html><title>Sign in</title>',
        'https://stac.example/'
      )
    ).toThrow(
      'Cannot read STAC landing page https://stac.example/: expected JSON but got an HTML page titled "Sign in"'
    );
  });

  it('says an empty object is neither a landing page nor an item page', () => {
    expect(() => parseStacLandingPage('{}', 'https://stac.example/')).toThrow(
      /not a STAC catalogue/
    );
    expect(() =>
      parseStacItemCollection({}, 'https://stac.example/search', 'x')
    ).toThrow(/no "features" list/);
    expect(() =>
      parseStacItem({}, 'https://stac.example/item.json', 'x')
    ).toThrow(/not a STAC Item/);
    expect(() =>
      parseStacCollections({}, 'https://stac.example/collections', 'x')
    ).toThrow(/no "collections" list/);
  });

  it('keeps a title with markup as plain text', () => {
    const item = {
      type: 'Feature',
      id: 'x',
      geometry: null,
      properties: { title: '<script>alert(1)</script>', datetime: null },
      links: [],
      assets: {}
    };
    expect(parseStacItem(item, 'https://stac.example/x.json', 'x').title).toBe(
      '<script>alert(1)</script>'
    );
  });
});
