// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';

import {
  ThreddsDataset,
  parseThreddsCatalog,
  threddsCatalogRefs,
  threddsDatasets
} from '../../src/adapters/thredds';
import { CatalogParseError, toDatasetReference } from '../../src/record';
import { HAVE_FIXTURES, readFixture, withFixtures } from './fixtures';

const TOP =
  'thredds_catalog_xml_top_level_catalogRefs__siphon_fixture_top_thredds_catalog.xml';
const SCAN =
  'thredds_catalog_xml_TDS_datasetScan_netcdf_files_dataSize_date__jupyterlab_thredds_crawler_vcr_netcdf.xml';
const ESGF =
  'thredds_catalog_xml_ESGF_published_dataset_with_properties_files__esg-search_resources.xml';

describe.skipIf(!HAVE_FIXTURES)(
  withFixtures('parseThreddsCatalog on the Unidata top-level catalogue'),
  () => {
    // The recorded request: GET http://thredds-test.unidata.ucar.edu/thredds/catalog.xml
    const url = 'http://thredds-test.unidata.ucar.edu/thredds/catalog.xml';
    const catalog = HAVE_FIXTURES
      ? parseThreddsCatalog(readFixture(TOP), url, 'unidata')
      : undefined;

    it('reads the catalogue and its three container datasets', () => {
      expect(catalog?.name).toBe('Unidata THREDDS Data Server');
      expect(catalog?.version).toBe('1.0.1');
      expect(catalog?.services).toEqual([]);
      expect(
        catalog?.children.map(node =>
          node.kind === 'dataset' ? node.name : node.href
        )
      ).toEqual([
        'Realtime data from IDD',
        'Other Unidata Data',
        'Test Datasets'
      ]);
    });

    it('resolves every catalogRef against the catalogue URL', () => {
      expect(
        threddsCatalogRefs(catalog!).map(ref => [ref.title, ref.href])
      ).toEqual([
        [
          'Forecast Model Data',
          'http://thredds-test.unidata.ucar.edu/thredds/idd/forecastModels.xml'
        ],
        [
          'Forecast Products and Analyses',
          'http://thredds-test.unidata.ucar.edu/thredds/idd/forecastProdsAndAna.xml'
        ],
        [
          'Observation Data',
          'http://thredds-test.unidata.ucar.edu/thredds/idd/obsData.xml'
        ],
        [
          'Radar Data',
          'http://thredds-test.unidata.ucar.edu/thredds/idd/radars.xml'
        ],
        [
          'Satellite Data',
          'http://thredds-test.unidata.ucar.edu/thredds/idd/satellite.xml'
        ],
        [
          'Unidata case studies',
          'http://thredds-test.unidata.ucar.edu/thredds/casestudies/catalog.xml'
        ],
        [
          'Test Datasets',
          'http://thredds-test.unidata.ucar.edu/thredds/testDatasets.xml'
        ],
        [
          'Test Point Datasets',
          'http://thredds-test.unidata.ucar.edu/thredds/testPointDatasets.xml'
        ]
      ]);
      const idd = catalog!.children[0] as ThreddsDataset;
      expect(idd.children).toHaveLength(5);
      expect(idd.record.access).toEqual([]);
    });
  }
);

describe.skipIf(!HAVE_FIXTURES)(
  withFixtures('parseThreddsCatalog on a TDS datasetScan folder'),
  () => {
    // A local TDS, as the jupyterlab_thredds crawler recorded it.
    const url =
      'http://localhost:8080/thredds/catalog/ewc/work01/output/netcdf/catalog.xml';
    const catalog = HAVE_FIXTURES
      ? parseThreddsCatalog(readFixture(SCAN), url, 'ewc')
      : undefined;
    const files = HAVE_FIXTURES
      ? threddsDatasets(catalog!).filter(
          dataset => dataset.urlPath !== undefined
        )
      : [];

    it('reads the compound service and its six members', () => {
      expect(catalog?.services).toHaveLength(1);
      expect(catalog?.services[0].serviceType).toBe('Compound');
      expect(
        catalog?.services[0].services.map(service => [
          service.name,
          service.serviceType,
          service.base
        ])
      ).toEqual([
        ['odap', 'OPENDAP', '/thredds/dodsC/'],
        ['dap4', 'DAP4', '/thredds/dap4/'],
        ['http', 'HTTPServer', '/thredds/fileServer/'],
        ['wcs', 'WCS', '/thredds/wcs/'],
        ['wms', 'WMS', '/thredds/wms/'],
        ['ncss', 'NetcdfSubset', '/thredds/ncss/']
      ]);
    });

    it('reads the three files with size in bytes and modification date', () => {
      expect(
        files.map(file => [
          file.record.id,
          file.record.size,
          file.record.dates?.modified
        ])
      ).toEqual([
        [
          'ewc/work01/output/netcdf/totalEvaporation_dailyTot_output.nc',
          335900000,
          '2018-05-01T11:58:27Z'
        ],
        [
          'ewc/work01/output/netcdf/satDegUppSurface_dailyTot_output.nc',
          335900000,
          '2018-05-01T11:58:24Z'
        ],
        [
          'ewc/work01/output/netcdf/discharge_dailyTot_output.nc',
          335900000,
          '2018-05-01T11:58:22Z'
        ]
      ]);
      expect(files[0].record.title).toBe('totalEvaporation_dailyTot_output.nc');
      expect(files[0].record.parent_id).toBe('ewc/work01/output/netcdf');
    });

    it('resolves the inherited compound service into one access URL per member', () => {
      const path = 'ewc/work01/output/netcdf/discharge_dailyTot_output.nc';
      expect(
        files[2].record.access.map(access => [
          access.protocol,
          access.url,
          access.media_type
        ])
      ).toEqual([
        ['opendap', `http://localhost:8080/thredds/dodsC/${path}`, undefined],
        ['opendap', `http://localhost:8080/thredds/dap4/${path}`, undefined],
        [
          'http',
          `http://localhost:8080/thredds/fileServer/${path}`,
          'application/x-netcdf'
        ],
        ['wcs', `http://localhost:8080/thredds/wcs/${path}`, undefined],
        ['wms', `http://localhost:8080/thredds/wms/${path}`, undefined],
        ['ncss', `http://localhost:8080/thredds/ncss/${path}`, undefined]
      ]);
      expect(files[2].record.access.map(access => access.service)).toEqual([
        'OPENDAP',
        'DAP4',
        'HTTPServer',
        'WCS',
        'WMS',
        'NetcdfSubset'
      ]);
    });

    it('leaves the container without access', () => {
      const container = catalog!.children[0] as ThreddsDataset;
      expect(container.name).toBe('netcdf');
      expect(container.record.access).toEqual([]);
    });
  }
);

describe.skipIf(!HAVE_FIXTURES)(
  withFixtures('parseThreddsCatalog on an ESGF-published catalogue'),
  () => {
    // The catalogue is a resource of esg-search; where it was served is assumed.
    const url =
      'https://pcmdi3.llnl.gov/thredds/esgcet/1/pcmdi.ipcc4.GFDL.gfdl_cm2_0.picntrl.mon.land.run1.v1.xml';
    const catalog = HAVE_FIXTURES
      ? parseThreddsCatalog(readFixture(ESGF), url, 'pcmdi')
      : undefined;
    const dataset = catalog?.children[0] as ThreddsDataset;
    const base = 'pcmdi.ipcc4.GFDL.gfdl_cm2_0.picntrl.mon.land.run1';

    it('reads the ESGF dataset: ids, version, properties as facets', () => {
      const record = dataset.record;
      expect(record.id).toBe(`${base}.v1`);
      expect(record.version).toBe('1');
      expect(record.identifiers).toEqual({
        master_id: base,
        instance_id: `${base}.v1`
      });
      expect(record.facets).toEqual({
        project: ['ipcc4'],
        experiment: ['picntrl'],
        model: ['gfdl_cm2_0'],
        time_frequency: ['mon'],
        realm: ['land'],
        run_name: ['run1'],
        institute: ['GFDL']
      });
      expect(record.description).toBe(
        'NOAA GFDL  model output prepared for IPCC Fourth Assessment and US CCSP Projects pre-industrial control experiment'
      );
      expect(record.spatial).toEqual({ bbox: [1.25, -89, 358.75, 89] });
      expect(record.temporal).toEqual({
        start: '0001-01-16T12:00:00',
        end: '0500-12-16T12:00:00'
      });
      expect(record.access).toEqual([]);
    });

    it('reads variables, with a standard name only where it is one', () => {
      expect(dataset.record.variables).toHaveLength(8);
      expect(dataset.record.variables[0]).toEqual({
        name: 'snm',
        long_name: 'Snow Melt',
        units: 'kg m-2 s-1'
      });
      expect(dataset.record.variables[1]).toEqual({
        name: 'mrsofc',
        long_name: 'Capacity of Soil to Store Water',
        units: 'kg m-2',
        standard_name: 'soil_moisture_content_at_field_capacity'
      });
    });

    it('reads 8 files and 4 aggregations', () => {
      const names = dataset.children.map(node =>
        node.kind === 'dataset' ? node.name : node.href
      );
      expect(names).toHaveLength(12);
      expect(names.filter(name => name.endsWith('.aggregation'))).toEqual([
        `${base}.snm.1.aggregation`,
        `${base}.snw.1.aggregation`,
        `${base}.mrro.1.aggregation`,
        `${base}.mrso.1.aggregation`
      ]);
      expect(names.filter(name => name.endsWith('.nc'))).toEqual([
        'snm_A1.000101-050012.nc',
        'mrsofc_A1.static.nc',
        'snw_A1.000101-050012.nc',
        'orog_A1.static.nc',
        'sftgif_A1.static.nc',
        'sftlf_A1.static.nc',
        'mrro_A1.000101-050012.nc',
        'mrso_A1.000101-050012.nc'
      ]);
    });

    it('resolves a file to HTTPServer and its GridFTP access, with the exact size', () => {
      const file = dataset.children[0] as ThreddsDataset;
      expect(file.record.id).toBe(`${base}.v1.snm_A1.000101-050012.nc`);
      expect(file.record.size).toBe(311193420);
      expect(file.record.version).toBe('1');
      expect(file.record.parent_id).toBe(`${base}.v1`);
      expect(file.record.dates).toEqual({ modified: '2004-11-04 12:05:42' });
      expect(file.record.spatial?.bbox).toEqual([1.25, -89, 358.75, 89]);
      expect(file.record.access).toEqual([
        {
          url: 'https://pcmdi3.llnl.gov/thredds/fileServer/ipcc4_picntrl/land/mo/snm/gfdl_cm2_0/run1/snm_A1.000101-050012.nc',
          protocol: 'http',
          service: 'HTTPServer',
          name: 'HTTPServer',
          description: 'HTTPServer',
          media_type: 'application/x-netcdf'
        },
        {
          url: 'gsiftp://pcmdi3.llnl.gov:2811/ipcc/picntrl/land/mo/snm/gfdl_cm2_0/run1/snm_A1.000101-050012.nc',
          protocol: 'other',
          service: 'GridFTP',
          name: 'GRIDFTPatPCMDI',
          description: 'GridFTP'
        }
      ]);
      const mrsofc = dataset.children[2] as ThreddsDataset;
      expect(mrsofc.record.size).toBe(60920);
    });

    it('resolves an aggregation to OPeNDAP', () => {
      const aggregation = dataset.children[1] as ThreddsDataset;
      expect(
        aggregation.record.access.map(access => [access.protocol, access.url])
      ).toEqual([
        [
          'opendap',
          `https://pcmdi3.llnl.gov/thredds/dodsC/${base}.snm.1.aggregation`
        ]
      ]);
      expect(toDatasetReference(aggregation.record).access).toEqual([
        {
          url: `https://pcmdi3.llnl.gov/thredds/dodsC/${base}.snm.1.aggregation`,
          protocol: 'opendap',
          description: 'OPENDAP'
        }
      ]);
    });
  }
);

const CATALOG_HEAD =
  '<?xml version="1.0" encoding="UTF-8"?>' +
  '<catalog xmlns="http://www.unidata.ucar.edu/namespaces/thredds/InvCatalog/v1.0" ' +
  'xmlns:xlink="http://www.w3.org/1999/xlink" version="1.0.1">';

describe('parseThreddsCatalog service resolution', () => {
  it('uses the first service when a dataset names none, and converts dataSize units', () => {
    const xml =
      CATALOG_HEAD +
      '<service name="dap" serviceType="OPENDAP" base="/thredds/dodsC/"/>' +
      '<service name="file" serviceType="HTTPServer" base="/thredds/fileServer/"/>' +
      '<dataset name="a.nc" ID="a" urlPath="data/a.nc"><dataSize units="Gbytes">1.5</dataSize></dataset>' +
      '<dataset name="b.nc" ID="b" urlPath="data/b.nc" serviceName="file"><dataSize units="Kbytes">2</dataSize></dataset>' +
      '</catalog>';
    const datasets = threddsDatasets(
      parseThreddsCatalog(
        xml,
        'https://tds.example/thredds/catalog/data/catalog.xml',
        't'
      )
    );
    expect(
      datasets.map(dataset => [
        dataset.record.size,
        dataset.record.access.map(access => access.url)
      ])
    ).toEqual([
      [1500000000, ['https://tds.example/thredds/dodsC/data/a.nc']],
      [2000, ['https://tds.example/thredds/fileServer/data/b.nc']]
    ]);
  });
});

describe.skipIf(!HAVE_FIXTURES)(
  withFixtures('THREDDS time coverage ending "present"'),
  () => {
    it('reads the ESGF catalogue with its end dates made "present" as open-ended extents', () => {
      // The recorded catalogue with each <end> replaced by the THREDDS keyword
      // "present" (dateType), as a TDS writes for a growing series.
      const xml = readFixture(ESGF).replace(
        /<end>[^<]*<\/end>/g,
        '<end>present</end>'
      );
      const url = 'https://pcmdi3.llnl.gov/thredds/esgcet/1/catalog.xml';
      const records = threddsDatasets(parseThreddsCatalog(xml, url, 't')).map(
        dataset => dataset.record
      );
      const extents = records
        .map(record => record.temporal)
        .filter(temporal => temporal !== undefined);
      expect(extents.length).toBeGreaterThan(0);
      for (const temporal of extents) {
        expect(temporal).not.toHaveProperty('end');
        expect(temporal.start).toMatch(/^\d{4}-\d\d-\d\dT/);
      }
      expect(records[0].temporal).toEqual({ start: '0001-01-16T12:00:00' });
    });
  }
);

describe('THREDDS time coverage (minimal XML from the InvCatalog 1.0 schema)', () => {
  it('lets an own end of "present" open an inherited end date', () => {
    const xml =
      CATALOG_HEAD +
      '<dataset name="series" ID="series">' +
      '<metadata inherited="true"><timeCoverage><start>2000-01-01</start><end>2010-12-31</end></timeCoverage></metadata>' +
      '<dataset name="closed.nc" ID="closed" urlPath="closed.nc"/>' +
      '<dataset name="growing.nc" ID="growing" urlPath="growing.nc">' +
      '<timeCoverage><start>2011-01-01</start><end> present </end></timeCoverage></dataset>' +
      '</dataset></catalog>';
    const records = threddsDatasets(
      parseThreddsCatalog(xml, 'https://tds.example/thredds/catalog.xml', 't')
    ).map(dataset => [dataset.record.id, dataset.record.temporal]);
    expect(records).toEqual([
      ['series', { start: '2000-01-01', end: '2010-12-31' }],
      ['closed', { start: '2000-01-01', end: '2010-12-31' }],
      ['growing', { start: '2011-01-01' }]
    ]);
  });
});

describe('THREDDS bad input', () => {
  const url = 'https://tds.example/thredds/catalog.xml';

  it('says malformed XML is malformed', () => {
    expect(() =>
      parseThreddsCatalog(CATALOG_HEAD + '<dataset name="x">', url, 't')
    ).toThrow(CatalogParseError);
    expect(() =>
      parseThreddsCatalog(CATALOG_HEAD + '<dataset name="x">', url, 't')
    ).toThrow(
      /^Cannot read THREDDS catalogue https:\/\/tds.example\/thredds\/catalog.xml: malformed XML/
    );
  });

  it('says an XML document of another kind is not a THREDDS catalogue', () => {
    expect(() =>
      parseThreddsCatalog(
        '<csw:GetRecordsResponse xmlns:csw="http://www.opengis.net/cat/csw/2.0.2"/>',
        url,
        't'
      )
    ).toThrow(
      'Cannot read THREDDS catalogue https://tds.example/thredds/catalog.xml: not a THREDDS catalogue: the root element is ' +
        '<csw:GetRecordsResponse> in namespace http://www.opengis.net/cat/csw/2.0.2, expected <catalog> in ' +
        'http://www.unidata.ucar.edu/namespaces/thredds/InvCatalog/v1.0'
    );
    expect(() => parseThreddsCatalog('<catalog/>', url, 't')).toThrow(
      /root element is <catalog> \(no namespace\)/
    );
  });

  it('says an HTML page or JSON is not XML', () => {
    expect(() =>
      parseThreddsCatalog('<html><body>Login</body></html>', url, 't')
    ).toThrow(/expected XML but got an HTML page/);
    expect(() => parseThreddsCatalog('{"error": "x"}', url, 't')).toThrow(
      /expected XML but got JSON/
    );
  });

  it('keeps a dataset name with markup as plain text', () => {
    const xml =
      CATALOG_HEAD +
      '<dataset name="&lt;script&gt;alert(1)&lt;/script&gt;" ID="x"/></catalog>';
    const dataset = threddsDatasets(parseThreddsCatalog(xml, url, 't'))[0];
    expect(dataset.record.title).toBe('<script>alert(1)</script>');
  });

  it('drops a catalogRef with a javascript: href', () => {
    const xml =
      CATALOG_HEAD +
      '<catalogRef xlink:href="javascript:alert(1)" xlink:title="x"/></catalog>';
    expect(parseThreddsCatalog(xml, url, 't').children).toEqual([]);
  });
});
