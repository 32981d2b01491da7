// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';

import {
  buildEsgfSearchUrl,
  buildEsgfWgetUrl,
  parseEsgfSearchResponse,
  parseEsgfSolrXmlDoc,
  splitEsgfUrl
} from '../../src/adapters/esgf';
import { CatalogParseError, toDatasetReference } from '../../src/record';
import { HAVE_FIXTURES, readFixture, withFixtures } from './fixtures';

const DATASETS =
  'esgf_esgsearch_solrjson_CMIP6_Dataset_limit10_with_facet_counts__EXTRACTED.json';
const FILES =
  'esgf_esgsearch_solrjson_File_multiple_results__metagrid_fixture.json';
const SOLR_DOC =
  'esgf_solr_record_cmip5_dataset_publish_doc__esg-search_resources.xml';

describe('buildEsgfSearchUrl', () => {
  it('builds a dataset search with free text, multi-valued facets, versions, paging and facet counts', () => {
    const url = buildEsgfSearchUrl(
      'https://esgf-node.ipsl.upmc.fr/esg-search/',
      {
        type: 'Dataset',
        query: 'sea ice',
        constraints: {
          project: ['CMIP6'],
          experiment_id: ['historical', 'ssp585']
        },
        latest: true,
        replica: false,
        distrib: true,
        offset: 20,
        limit: 10,
        facets: ['source_id', 'variable_id']
      }
    );
    expect(url).toBe(
      'https://esgf-node.ipsl.upmc.fr/esg-search/search?type=Dataset&query=sea+ice&project=CMIP6' +
        '&experiment_id=historical&experiment_id=ssp585&latest=true&replica=false&distrib=true' +
        '&offset=20&limit=10&facets=source_id%2Cvariable_id&format=application%2Fsolr%2Bjson'
    );
  });

  it('builds the file search of one dataset', () => {
    const url = buildEsgfSearchUrl('/espri-vre/api/catalogs/esgf-ipsl/proxy', {
      type: 'File',
      datasetId:
        'CMIP6.CMIP.CCCma.CanESM5-CanOE.1pctCO2.r1i1p2f1.Omon.hfbasin.gn.v20190429|crd-esgf-drc.ec.gc.ca',
      limit: 500
    });
    expect(url).toBe(
      '/espri-vre/api/catalogs/esgf-ipsl/proxy/search?type=File' +
        '&dataset_id=CMIP6.CMIP.CCCma.CanESM5-CanOE.1pctCO2.r1i1p2f1.Omon.hfbasin.gn.v20190429%7Ccrd-esgf-drc.ec.gc.ca' +
        '&limit=500&format=application%2Fsolr%2Bjson'
    );
  });

  it('asks for all versions with latest=false and bounds space and time', () => {
    const url = buildEsgfSearchUrl('https://esgf.example/esg-search', {
      latest: false,
      bbox: [-10, 35, 30, 70],
      start: '2000-01-01T00:00:00Z',
      end: '2010-12-31T23:59:59Z'
    });
    expect(url).toBe(
      'https://esgf.example/esg-search/search?type=Dataset&bbox=%5B-10%2C35%2C30%2C70%5D' +
        '&start=2000-01-01T00%3A00%3A00Z&end=2010-12-31T23%3A59%3A59Z&latest=false&format=application%2Fsolr%2Bjson'
    );
  });
});

describe('buildEsgfWgetUrl', () => {
  it('lists every selected dataset id and the file limit', () => {
    const url = buildEsgfWgetUrl(
      'https://esgf-node.llnl.gov/esg-search',
      [
        'CMIP6.CMIP.CCCma.CanESM5-CanOE.1pctCO2.r1i1p2f1.Omon.hfbasin.gn.v20190429|crd-esgf-drc.ec.gc.ca',
        'CMIP6.CMIP.CCCma.CanESM5-CanOE.1pctCO2.r1i1p2f1.Omon.tauuo.gn.v20190429|crd-esgf-drc.ec.gc.ca'
      ],
      { limit: 5000 }
    );
    expect(url).toBe(
      'https://esgf-node.llnl.gov/esg-search/wget' +
        '?dataset_id=CMIP6.CMIP.CCCma.CanESM5-CanOE.1pctCO2.r1i1p2f1.Omon.hfbasin.gn.v20190429%7Ccrd-esgf-drc.ec.gc.ca' +
        '&dataset_id=CMIP6.CMIP.CCCma.CanESM5-CanOE.1pctCO2.r1i1p2f1.Omon.tauuo.gn.v20190429%7Ccrd-esgf-drc.ec.gc.ca' +
        '&limit=5000'
    );
  });

  it('refuses an empty selection', () => {
    expect(() =>
      buildEsgfWgetUrl('https://esgf.example/esg-search', [])
    ).toThrow(RangeError);
  });
});

describe('splitEsgfUrl', () => {
  it('splits url, media type and service', () => {
    expect(
      splitEsgfUrl('http://a.example/x.nc|application/netcdf|HTTPServer')
    ).toEqual({
      url: 'http://a.example/x.nc',
      mediaType: 'application/netcdf',
      service: 'HTTPServer'
    });
  });
});

describe.skipIf(!HAVE_FIXTURES)(
  withFixtures('parseEsgfSearchResponse on a recorded CMIP6 dataset search'),
  () => {
    const result = HAVE_FIXTURES
      ? parseEsgfSearchResponse(readFixture(DATASETS), 'esgf-llnl')
      : undefined;

    it('reads the total and the page', () => {
      expect(result?.total).toBe(8126429);
      expect(result?.offset).toBe(0);
      expect(result?.records).toHaveLength(10);
      expect(
        result?.records.map(record => record.facets.variable_id?.[0])
      ).toEqual([
        'hfbasin',
        'tauuo',
        'tauvo',
        'thetao',
        'tob',
        'tos',
        'tosga',
        'tossq',
        'umo',
        'uo'
      ]);
    });

    it('reads a CMIP6 dataset into a record', () => {
      const record = result!.records[0];
      expect(record.id).toBe(
        'CMIP6.CMIP.CCCma.CanESM5-CanOE.1pctCO2.r1i1p2f1.Omon.hfbasin.gn.v20190429|crd-esgf-drc.ec.gc.ca'
      );
      expect(record.title).toBe(
        'CMIP6.CMIP.CCCma.CanESM5-CanOE.1pctCO2.r1i1p2f1.Omon.hfbasin.gn'
      );
      expect(record.source).toEqual({ catalog_id: 'esgf-llnl', kind: 'esgf' });
      expect(record.version).toBe('20190429');
      expect(record.size).toBe(4686043);
      expect(record.facets).toMatchObject({
        activity_id: ['CMIP'],
        institution_id: ['CCCma'],
        source_id: ['CanESM5-CanOE'],
        experiment_id: ['1pctCO2'],
        variant_label: ['r1i1p2f1'],
        member_id: ['r1i1p2f1'],
        table_id: ['Omon'],
        grid_label: ['gn'],
        frequency: ['mon'],
        realm: ['ocean'],
        nominal_resolution: ['100 km'],
        data_node: ['crd-esgf-drc.ec.gc.ca'],
        access: ['HTTPServer', 'GridFTP', 'OPENDAP', 'LAS']
      });
      expect(record.facets.url).toBeUndefined();
      expect(record.facets.pid).toBeUndefined();
      expect(record.variables).toEqual([
        {
          name: 'hfbasin',
          long_name: 'Northward Ocean Heat Transport',
          units: 'W',
          standard_name: 'northward_ocean_heat_transport'
        }
      ]);
      expect(record.temporal).toEqual({
        start: '1850-01-16T12:00:00Z',
        end: '2000-12-16T12:00:00Z'
      });
      // Only north and south are given: no bbox is made up.
      expect(record.spatial).toBeUndefined();
      expect(record.identifiers).toEqual({
        pid: 'hdl:21.14100/be3a1612-4db6-338c-a4eb-f40b2cccade3',
        instance_id:
          'CMIP6.CMIP.CCCma.CanESM5-CanOE.1pctCO2.r1i1p2f1.Omon.hfbasin.gn.v20190429',
        master_id:
          'CMIP6.CMIP.CCCma.CanESM5-CanOE.1pctCO2.r1i1p2f1.Omon.hfbasin.gn'
      });
      expect(record.citation).toEqual({
        text:
          'CCCma: CMIP6.CMIP.CCCma.CanESM5-CanOE.1pctCO2.r1i1p2f1.Omon.hfbasin.gn. Version 20190429. ' +
          'Earth System Grid Federation. https://hdl.handle.net/21.14100/be3a1612-4db6-338c-a4eb-f40b2cccade3',
        url: 'http://cera-www.dkrz.de/WDCC/meta/CMIP6/CMIP6.CMIP.CCCma.CanESM5-CanOE.1pctCO2.r1i1p2f1.Omon.hfbasin.gn.v20190429.json'
      });
      expect(record.access).toEqual([
        {
          url: 'http://crd-esgf-drc.ec.gc.ca/thredds/catalog/esgcet/1356/CMIP6.CMIP.CCCma.CanESM5-CanOE.1pctCO2.r1i1p2f1.Omon.hfbasin.gn.v20190429.xml#CMIP6.CMIP.CCCma.CanESM5-CanOE.1pctCO2.r1i1p2f1.Omon.hfbasin.gn.v20190429',
          protocol: 'other',
          media_type: 'application/xml+thredds',
          service: 'THREDDS',
          description: 'THREDDS'
        },
        {
          url: 'http://crd-esgf-drc.ec.gc.ca/las/getUI.do?catid=2D7D52D9ABAF43CDC673C1D95DCBF3BC_ns_CMIP6.CMIP.CCCma.CanESM5-CanOE.1pctCO2.r1i1p2f1.Omon.hfbasin.gn.v20190429',
          protocol: 'other',
          media_type: 'application/las',
          service: 'LAS',
          description: 'LAS'
        }
      ]);
    });

    it('reads sizes and PIDs of every dataset', () => {
      const records = result!.records;
      expect(records[3].size).toBe(14791910495);
      expect(records[8].size).toBe(15236974915);
      expect(records[9].identifiers.pid).toBe(
        'hdl:21.14100/fde85622-5345-344d-99c8-30ece5296165'
      );
      expect(records[3].facets.variable_id).toEqual(['thetao']);
    });

    it('reads the flat facet arrays into values with counts', () => {
      const facets = result!.facets;
      expect(Object.keys(facets)).toEqual([
        'activity_id',
        'data_node',
        'source_id',
        'institution_id',
        'source_type',
        'experiment_id',
        'sub_experiment_id',
        'nominal_resolution',
        'variant_label',
        'grid_label',
        'table_id',
        'frequency',
        'realm',
        'variable_id',
        'cf_standard_name'
      ]);
      // CMIP6's real cardinalities, as the benchmark of issue 3 states them.
      expect(facets.activity_id).toHaveLength(20);
      expect(facets.institution_id).toHaveLength(45);
      expect(facets.source_id).toHaveLength(122);
      expect(facets.experiment_id).toHaveLength(257);
      expect(facets.variant_label).toHaveLength(1484);
      expect(facets.table_id).toHaveLength(41);
      expect(facets.variable_id).toHaveLength(1203);
      expect(facets.grid_label).toHaveLength(12);
      expect(facets.activity_id.slice(0, 3)).toEqual([
        { value: 'AerChemMIP', count: 306367 },
        { value: 'C4MIP', count: 61749 },
        { value: 'CDRMIP', count: 25318 }
      ]);
      expect(facets.grid_label.find(item => item.value === 'gn')).toEqual({
        value: 'gn',
        count: 6191094
      });
      expect(
        facets.data_node.find(item => item.value === 'crd-esgf-drc.ec.gc.ca')
          ?.count
      ).toBe(846349);
    });

    it('turns a record into a DatasetReference for the other extensions', () => {
      const reference = toDatasetReference(result!.records[0]);
      expect(reference).toEqual({
        id: 'CMIP6.CMIP.CCCma.CanESM5-CanOE.1pctCO2.r1i1p2f1.Omon.hfbasin.gn.v20190429|crd-esgf-drc.ec.gc.ca',
        title:
          'CMIP6.CMIP.CCCma.CanESM5-CanOE.1pctCO2.r1i1p2f1.Omon.hfbasin.gn',
        source: { catalog_id: 'esgf-llnl', kind: 'esgf' },
        identifiers: {
          pid: 'hdl:21.14100/be3a1612-4db6-338c-a4eb-f40b2cccade3',
          instance_id:
            'CMIP6.CMIP.CCCma.CanESM5-CanOE.1pctCO2.r1i1p2f1.Omon.hfbasin.gn.v20190429',
          version: '20190429'
        },
        // A THREDDS catalogue page and LAS are not ways to open the data.
        access: [],
        size: 4686043
      });
    });
  }
);

describe.skipIf(!HAVE_FIXTURES)(
  withFixtures('parseEsgfSearchResponse on a recorded file search'),
  () => {
    const result = HAVE_FIXTURES
      ? parseEsgfSearchResponse(readFixture(FILES), 'esgf-ornl')
      : undefined;
    const path =
      'css03_data/CMIP6/AerChemMIP/EC-Earth-Consortium/EC-Earth3-AerChem/histSST-piAer/r1i1p1f1/Amon/prsn/gr/v20210831/';

    it('reads the total and one record per file', () => {
      expect(result?.total).toBe(42469744);
      expect(result?.records).toHaveLength(2);
      expect(result?.facets).toEqual({});
    });

    it('names a file after its URL when the answer lacks id and title', () => {
      const record = result!.records[0];
      expect(record.title).toBe(
        'prsn_Amon_EC-Earth3-AerChem_histSST-piAer_r1i1p1f1_gr_199901-199912.nc'
      );
      expect(record.id).toBe(
        `https://esgf-node.ornl.gov/thredds/fileServer/${path}prsn_Amon_EC-Earth3-AerChem_histSST-piAer_r1i1p1f1_gr_199901-199912.nc|esgf-node.ornl.gov`
      );
      expect(result!.records[1].title).toBe(
        'prsn_Amon_EC-Earth3-AerChem_histSST-piAer_r1i1p1f1_gr_200001-200012.nc'
      );
      expect(record.facets.data_node).toEqual(['esgf-node.ornl.gov']);
    });

    it('splits each url entry into URL, media type and service, OPeNDAP first', () => {
      const file =
        'prsn_Amon_EC-Earth3-AerChem_histSST-piAer_r1i1p1f1_gr_199901-199912.nc';
      expect(result!.records[0].access).toEqual([
        {
          url: `https://esgf-node.ornl.gov/thredds/dodsC/${path}${file}`,
          protocol: 'opendap',
          service: 'OPENDAP',
          description: 'OPENDAP'
        },
        {
          url: `https://esgf-node.ornl.gov/thredds/fileServer/${path}${file}`,
          protocol: 'http',
          media_type: 'application/netcdf',
          service: 'HTTPServer',
          description: 'HTTPServer'
        },
        {
          url: `globus:dea29ae8-bb92-4c63-bdbc-260522c92fe8/${path}${file}`,
          protocol: 'globus',
          media_type: 'Globus',
          service: 'Globus',
          description: 'Globus'
        },
        {
          url: `gsiftp://esgf-node.ornl.gov/${path}${file}`,
          protocol: 'other',
          media_type: 'application/gridftp',
          service: 'GridFTP',
          description: 'GridFTP'
        }
      ]);
    });
  }
);

describe('parseEsgfSearchResponse on a File document with checksum and tracking id', () => {
  const doc = {
    id: 'CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr.v20180803.tas_Amon_IPSL-CM6A-LR_historical_r1i1p1f1_gr_185001-201412.nc|vesg.ipsl.upmc.fr',
    type: 'File',
    title: 'tas_Amon_IPSL-CM6A-LR_historical_r1i1p1f1_gr_185001-201412.nc',
    dataset_id:
      'CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr.v20180803|vesg.ipsl.upmc.fr',
    size: 100596442,
    checksum: [
      '4a3ebb3b2ec3a1d1d5e8b1c1e8b1b5d0f3a3bd5e2ec4a6f3d0e5cc19d3b0c1f2'
    ],
    checksum_type: ['SHA256'],
    tracking_id: ['hdl:21.14100/f7e1d3a2-7b53-4d5a-9d8b-6c3c0a4c1f11'],
    version: '1',
    url: [
      'http://vesg.ipsl.upmc.fr/thredds/fileServer/cmip6/CMIP/IPSL/tas_Amon.nc|application/netcdf|HTTPServer',
      'http://vesg.ipsl.upmc.fr/thredds/dodsC/cmip6/CMIP/IPSL/tas_Amon.nc.html|application/opendap-html|OPENDAP'
    ]
  };
  const record = parseEsgfSearchResponse(
    { response: { numFound: 1, start: 0, docs: [doc] } },
    'esgf'
  ).records[0];

  it('keeps size, checksum, tracking id and its dataset', () => {
    expect(record.size).toBe(100596442);
    expect(record.checksum).toEqual({
      type: 'SHA256',
      value: '4a3ebb3b2ec3a1d1d5e8b1c1e8b1b5d0f3a3bd5e2ec4a6f3d0e5cc19d3b0c1f2'
    });
    expect(record.identifiers.tracking_ids).toEqual([
      'hdl:21.14100/f7e1d3a2-7b53-4d5a-9d8b-6c3c0a4c1f11'
    ]);
    expect(record.parent_id).toBe(
      'CMIP6.CMIP.IPSL.IPSL-CM6A-LR.historical.r1i1p1f1.Amon.tas.gr.v20180803|vesg.ipsl.upmc.fr'
    );
  });

  it('removes the .html suffix of OPeNDAP URLs', () => {
    expect(record.access[0]).toEqual({
      url: 'http://vesg.ipsl.upmc.fr/thredds/dodsC/cmip6/CMIP/IPSL/tas_Amon.nc',
      protocol: 'opendap',
      service: 'OPENDAP',
      description: 'OPENDAP'
    });
  });

  it('drops a url entry with a scheme the panel may not offer', () => {
    const bad = { ...doc, url: ['javascript:alert(1)|text/html|HTTPServer'] };
    expect(
      parseEsgfSearchResponse(
        { response: { numFound: 1, docs: [bad] } },
        'esgf'
      ).records[0].access
    ).toEqual([]);
  });

  it('reads CORDEX facet keys', () => {
    const cordex = {
      id: 'cordex.output.EUR-11.CLMcom.MPI-M-MPI-ESM-LR.rcp85.r1i1p1.CCLM4-8-17.v1.mon.tas.v20140515|esgf1.dkrz.de',
      title:
        'cordex.output.EUR-11.CLMcom.MPI-M-MPI-ESM-LR.rcp85.r1i1p1.CCLM4-8-17.v1.mon.tas',
      project: ['CORDEX'],
      domain: ['EUR-11'],
      driving_model: ['MPI-M-MPI-ESM-LR'],
      rcm_name: ['CCLM4-8-17'],
      rcm_version: ['v1'],
      experiment: ['rcp85'],
      ensemble: ['r1i1p1'],
      time_frequency: ['mon'],
      variable: ['tas'],
      variable_long_name: ['Near-Surface Air Temperature'],
      variable_units: ['K'],
      cf_standard_name: ['air_temperature']
    };
    const parsed = parseEsgfSearchResponse(
      { response: { numFound: 1, docs: [cordex] } },
      'esgf'
    ).records[0];
    expect(parsed.facets).toEqual({
      project: ['CORDEX'],
      domain: ['EUR-11'],
      driving_model: ['MPI-M-MPI-ESM-LR'],
      rcm_name: ['CCLM4-8-17'],
      rcm_version: ['v1'],
      experiment: ['rcp85'],
      ensemble: ['r1i1p1'],
      time_frequency: ['mon'],
      variable: ['tas']
    });
    expect(parsed.variables).toEqual([
      {
        name: 'tas',
        long_name: 'Near-Surface Air Temperature',
        units: 'K',
        standard_name: 'air_temperature'
      }
    ]);
  });
});

describe.skipIf(!HAVE_FIXTURES)(
  withFixtures('parseEsgfSolrXmlDoc on the CMIP5 publish record'),
  () => {
    const record = HAVE_FIXTURES
      ? parseEsgfSolrXmlDoc(readFixture(SOLR_DOC), 'esgf')
      : undefined;

    it('reads identifiers, version, size and text', () => {
      expect(record?.id).toBe(
        'cmip5.output1.INM.inmcm4.1pctCO2.day.atmos.day.r1i1p1.v20110323|pcmdi9.llnl.gov'
      );
      expect(record?.title).toBe(
        'project=CMIP5 / IPCC Fifth Assessment Report, model=Institute for Numerical Mathematics, experiment=1 percent per year CO2, time_frequency=day, modeling realm=atmos, ensemble=r1i1p1, version=20110323'
      );
      expect(record?.description).toBe(
        'inmcm4 model output prepared for CMIP5 1 percent per year CO2'
      );
      expect(record?.version).toBe('20110323');
      expect(record?.size).toBe(26498882256);
      expect(record?.identifiers).toEqual({
        instance_id:
          'cmip5.output1.INM.inmcm4.1pctCO2.day.atmos.day.r1i1p1.v20110323',
        master_id: 'cmip5.output1.INM.inmcm4.1pctCO2.day.atmos.day.r1i1p1'
      });
    });

    it('reads CMIP5 facets, repeated fields as lists, and no numbers as facets', () => {
      expect(record?.facets).toEqual({
        project: ['CMIP5'],
        data_node: ['pcmdi9.llnl.gov'],
        index_node: ['pcmdi9.llnl.gov'],
        access: ['LAS', 'HTTPServer', 'OPENDAP'],
        variable: ['huss', 'pr'],
        ensemble: ['r1i1p1'],
        experiment: ['1pctCO2'],
        experiment_family: ['All', 'Idealized'],
        forcing: ['N/A'],
        institute: ['INM'],
        model: ['INM-CM4'],
        product: ['output1'],
        realm: ['atmos'],
        time_frequency: ['day'],
        format: ['netCDF, CF-1.4'],
        cmor_table: ['day']
      });
    });

    it('pairs variables with their long names, units and standard names', () => {
      expect(record?.variables).toEqual([
        {
          name: 'huss',
          long_name: 'Near-Surface Specific Humidity',
          units: '1',
          standard_name: 'specific_humidity'
        },
        {
          name: 'pr',
          long_name: 'Precipitation',
          units: 'kg m-2 s-1',
          standard_name: 'precipitation_flux'
        }
      ]);
    });

    it('reads the extent and the access links', () => {
      expect(record?.spatial).toEqual({ bbox: [0, -89.25, 358, 89.25] });
      expect(record?.temporal).toEqual({
        start: '2090-01-01T12:00:00Z',
        end: '2229-12-31T12:00:00Z'
      });
      expect(record?.access.map(item => [item.protocol, item.service])).toEqual(
        [
          ['other', 'Catalog'],
          ['other', 'LAS']
        ]
      );
    });
  }
);

describe('ESGF bad input', () => {
  it('says a malformed JSON body is malformed', () => {
    expect(() =>
      parseEsgfSearchResponse('{"response": {"numFound": 3,', 'esgf')
    ).toThrow(CatalogParseError);
    expect(() =>
      parseEsgfSearchResponse('{"response": {"numFound": 3,', 'esgf')
    ).toThrow(/Cannot read ESGF search response: malformed JSON/);
  });

  it('says an HTML error page is not JSON', () => {
    const page =
      '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>';
    expect(() => parseEsgfSearchResponse(page, 'esgf')).toThrow(
      'Cannot read ESGF search response: expected JSON but got an HTML page titled "502 Bad Gateway"'
    );
    expect(() =>
      parseEsgfSearchResponse('<?xml version="1.0"?><response/>', 'esgf')
    ).toThrow(
      'Cannot read ESGF search response: expected JSON but got an HTML or XML document ("<?xml version="1.0"?><response/>")'
    );
  });

  it('says an empty object is not a Solr answer', () => {
    expect(() => parseEsgfSearchResponse('{}', 'esgf')).toThrow(
      /no "response" object/
    );
    expect(() =>
      parseEsgfSearchResponse({ response: { numFound: 1 } }, 'esgf')
    ).toThrow(/lacks numFound or docs/);
    expect(() => parseEsgfSearchResponse('[1, 2]', 'esgf')).toThrow(
      /expected a JSON object but got an array/
    );
  });

  it('says a facet list of odd length is malformed', () => {
    const body = {
      response: { numFound: 0, docs: [] },
      facet_counts: { facet_fields: { source_id: ['IPSL-CM6A-LR'] } }
    };
    expect(() => parseEsgfSearchResponse(body, 'esgf')).toThrow(
      /facet "source_id" is not a list of value, count pairs/
    );
  });

  it('says malformed XML and a document of another kind are not Solr records', () => {
    expect(() =>
      parseEsgfSolrXmlDoc('<doc><field name="id">x</doc>', 'esgf')
    ).toThrow(/malformed XML/);
    expect(() => parseEsgfSolrXmlDoc('<catalog/>', 'esgf')).toThrow(
      /expected a <doc> element but got <catalog>/
    );
  });

  it('keeps a title with markup as plain text', () => {
    const doc = { id: 'x', title: '<script>alert("x")</script> & <b>bold</b>' };
    const record = parseEsgfSearchResponse(
      { response: { numFound: 1, docs: [doc] } },
      'esgf'
    ).records[0];
    expect(record.title).toBe('<script>alert("x")</script> & <b>bold</b>');
  });
});
