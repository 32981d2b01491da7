// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';

import {
  buildCswGetRecordByIdUrl,
  buildCswGetRecordsRequest,
  parseCswGetRecordByIdResponse,
  parseCswGetRecordsResponse
} from '../../src/adapters/csw';
import { CatalogParseError } from '../../src/record';
import { HAVE_FIXTURES, readFixture, withFixtures } from './fixtures';

const REQUEST_ALL =
  'csw_GetRecords_REQUEST_POST_full_DublinCore__pycsw_tests.xml';
const DC_RESPONSE =
  'csw_GetRecordsResponse_DublinCore_full_5of12__pycsw_tests_expected.xml';
const ISO_RESPONSE =
  'csw_GetRecordsResponse_ISO19139_GeoNetwork_INSPIRE_2records__OWSLib_tests.xml';

const ENDPOINT = 'https://geonetwork.example/geonetwork/srv/eng/csw';
const CSW = 'http://www.opengis.net/cat/csw/2.0.2';
const GMD = 'http://www.isotc211.org/2005/gmd';

function getRecordsSummary(xml: string): Record<string, string | null> {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  const root = doc.documentElement;
  const query = doc.getElementsByTagNameNS(CSW, 'Query')[0];
  return {
    root: `${root.namespaceURI} ${root.localName}`,
    service: root.getAttribute('service'),
    version: root.getAttribute('version'),
    resultType: root.getAttribute('resultType'),
    startPosition: root.getAttribute('startPosition'),
    maxRecords: root.getAttribute('maxRecords'),
    outputFormat: root.getAttribute('outputFormat'),
    outputSchema: root.getAttribute('outputSchema'),
    typeNames: query.getAttribute('typeNames'),
    elementSetName: doc.getElementsByTagNameNS(CSW, 'ElementSetName')[0]
      .textContent
  };
}

describe('buildCswGetRecordsRequest', () => {
  it.skipIf(!HAVE_FIXTURES)(
    withFixtures('asks what pycsw\'s own "GetRecords all" test request asks'),
    () => {
      const request = buildCswGetRecordsRequest(ENDPOINT, {
        outputSchema: 'dc',
        elementSetName: 'full',
        startPosition: 1,
        maxRecords: 5
      });
      expect(request.method).toBe('POST');
      expect(request.url).toBe(ENDPOINT);
      expect(request.headers).toEqual({ 'Content-Type': 'application/xml' });
      expect(getRecordsSummary(request.body)).toEqual(
        getRecordsSummary(readFixture(REQUEST_ALL))
      );
    }
  );

  it('writes full text, bbox and time filters, escaping the text', () => {
    const request = buildCswGetRecordsRequest(ENDPOINT, {
      text: 'ozone <100% & "UV"',
      bbox: [2.5, 49.5, 6.4, 51.5],
      start: '2000-01-01',
      end: '2010-12-31',
      outputSchema: 'iso',
      startPosition: 11,
      maxRecords: 10
    });
    expect(request.body).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>' +
        '<csw:GetRecords xmlns:csw="http://www.opengis.net/cat/csw/2.0.2" xmlns:ogc="http://www.opengis.net/ogc" ' +
        'xmlns:gml="http://www.opengis.net/gml" xmlns:ows="http://www.opengis.net/ows" ' +
        'xmlns:gmd="http://www.isotc211.org/2005/gmd" xmlns:apiso="http://www.opengis.net/cat/csw/apiso/1.0" ' +
        'service="CSW" version="2.0.2" resultType="results" startPosition="11" maxRecords="10" ' +
        'outputFormat="application/xml" outputSchema="http://www.isotc211.org/2005/gmd">' +
        '<csw:Query typeNames="gmd:MD_Metadata"><csw:ElementSetName>full</csw:ElementSetName>' +
        '<csw:Constraint version="1.1.0"><ogc:Filter><ogc:And>' +
        '<ogc:PropertyIsLike wildCard="%" singleChar="_" escapeChar="\\">' +
        '<ogc:PropertyName>csw:AnyText</ogc:PropertyName>' +
        '<ogc:Literal>%ozone &lt;100\\% &amp; &quot;UV&quot;%</ogc:Literal></ogc:PropertyIsLike>' +
        '<ogc:BBOX><ogc:PropertyName>ows:BoundingBox</ogc:PropertyName>' +
        '<gml:Envelope srsName="urn:ogc:def:crs:EPSG::4326">' +
        '<gml:lowerCorner>49.5 2.5</gml:lowerCorner><gml:upperCorner>51.5 6.4</gml:upperCorner>' +
        '</gml:Envelope></ogc:BBOX>' +
        '<ogc:PropertyIsGreaterThanOrEqualTo><ogc:PropertyName>apiso:TempExtent_end</ogc:PropertyName>' +
        '<ogc:Literal>2000-01-01</ogc:Literal></ogc:PropertyIsGreaterThanOrEqualTo>' +
        '<ogc:PropertyIsLessThanOrEqualTo><ogc:PropertyName>apiso:TempExtent_begin</ogc:PropertyName>' +
        '<ogc:Literal>2010-12-31</ogc:Literal></ogc:PropertyIsLessThanOrEqualTo>' +
        '</ogc:And></ogc:Filter></csw:Constraint></csw:Query></csw:GetRecords>'
    );
    const parsed = new DOMParser().parseFromString(
      request.body,
      'application/xml'
    );
    expect(parsed.getElementsByTagName('parsererror')).toHaveLength(0);
    expect(
      parsed.getElementsByTagNameNS('http://www.opengis.net/ogc', 'Literal')[0]
        .textContent
    ).toBe('%ozone <100\\% & "UV"%');
  });

  it('sends a single filter without ogc:And', () => {
    const { body } = buildCswGetRecordsRequest(ENDPOINT, { text: 'sst' });
    expect(body).toContain(
      '<csw:Query typeNames="csw:Record"><csw:ElementSetName>full</csw:ElementSetName>' +
        '<csw:Constraint version="1.1.0"><ogc:Filter><ogc:PropertyIsLike'
    );
    expect(body).not.toContain('ogc:And');
    expect(body).toContain('startPosition="1" maxRecords="10"');
  });
});

describe('buildCswGetRecordByIdUrl', () => {
  it('asks for the ISO record by default', () => {
    expect(
      buildCswGetRecordByIdUrl(ENDPOINT, '8dad9c98-0512-4845-a2bf-3ace1c93df6f')
    ).toBe(
      `${ENDPOINT}?service=CSW&version=2.0.2&request=GetRecordById&id=8dad9c98-0512-4845-a2bf-3ace1c93df6f` +
        '&outputSchema=http%3A%2F%2Fwww.isotc211.org%2F2005%2Fgmd&elementSetName=full'
    );
    expect(
      buildCswGetRecordByIdUrl(`${ENDPOINT}?lang=fre`, 'a b', {
        outputSchema: 'dc',
        elementSetName: 'brief'
      })
    ).toBe(
      `${ENDPOINT}?lang=fre&service=CSW&version=2.0.2&request=GetRecordById&id=a+b` +
        '&outputSchema=http%3A%2F%2Fwww.opengis.net%2Fcat%2Fcsw%2F2.0.2&elementSetName=brief'
    );
  });
});

describe.skipIf(!HAVE_FIXTURES)(
  withFixtures('parseCswGetRecordsResponse on pycsw Dublin Core records'),
  () => {
    const result = HAVE_FIXTURES
      ? parseCswGetRecordsResponse(readFixture(DC_RESPONSE), 'pycsw')
      : undefined;

    it('reads the counts and the next position', () => {
      expect(result?.matched).toBe(12);
      expect(result?.returned).toBe(5);
      expect(result?.nextRecord).toBe(6);
      expect(result?.records.map(record => [record.id, record.title])).toEqual([
        ['urn:uuid:19887a8a-f6b0-4a63-ae56-7fba0e17801f', 'Lorem ipsum'],
        // No dc:title: the identifier stands in.
        [
          'urn:uuid:1ef30a8b-876d-4828-9246-c37ab4510bbd',
          'urn:uuid:1ef30a8b-876d-4828-9246-c37ab4510bbd'
        ],
        ['urn:uuid:66ae76b7-54ba-489b-a582-0f0633d96493', 'Maecenas enim'],
        [
          'urn:uuid:6a3de50b-fa66-4b58-a0e6-ca146fdd18d4',
          'Ut facilisis justo ut lacus'
        ],
        [
          'urn:uuid:784e2afd-a9fd-44a6-9a92-a3848371c8ec',
          'Aliquam fermentum purus quis arcu'
        ]
      ]);
    });

    it('reads Dublin Core fields', () => {
      const first = result!.records[0];
      expect(first.source).toEqual({ catalog_id: 'pycsw', kind: 'csw' });
      expect(first.description).toBe(
        'Quisque lacus diam, placerat mollis, pharetra in, commodo sed, augue. Duis iaculis arcu vel arcu.'
      );
      expect(first.facets).toEqual({
        subject: ['Tourism--Greece'],
        type: ['http://purl.org/dc/dcmitype/Image'],
        format: ['image/svg+xml'],
        spatial: ['GR-22']
      });
      expect(result!.records[3].facets.subject).toEqual(['Vegetation']);
      expect(result!.records[4].dates).toEqual({ modified: '2006-05-12' });
    });

    it('reads an EPSG:4326 bounding box latitude first', () => {
      expect(result!.records[1].spatial).toEqual({
        bbox: [13.754, 60.042, 17.92, 68.41]
      });
      expect(result!.records[0].spatial).toBeUndefined();
    });
  }
);

describe.skipIf(!HAVE_FIXTURES)(
  withFixtures('parseCswGetRecordsResponse on GeoNetwork ISO 19139 records'),
  () => {
    const result = HAVE_FIXTURES
      ? parseCswGetRecordsResponse(readFixture(ISO_RESPONSE), 'inspire')
      : undefined;

    it('reads the counts and the next position', () => {
      expect(result?.matched).toBe(216);
      expect(result?.returned).toBe(2);
      expect(result?.nextRecord).toBe(85);
      expect(result?.records.map(record => record.id)).toEqual([
        '8dad9c98-0512-4845-a2bf-3ace1c93df6f',
        'eeae2de7-0a09-4b69-b7a0-0b6b20903fd5'
      ]);
    });

    it('reads title, abstract, keywords by thesaurus and dates of a service record', () => {
      const record = result!.records[0];
      expect(record.title).toBe('SUVIM station network WMS');
      expect(
        record.description?.startsWith(
          'The Solar Ultraviolet - Visible Irradiance Monitoring network (SUVIM)'
        )
      ).toBe(true);
      expect(record.facets.type).toEqual(['service']);
      expect(record.facets['GEMET - INSPIRE themes, version 1.0']).toEqual([
        'Atmospheric conditions',
        'Environmental monitoring facilities',
        'Human health and safety'
      ]);
      expect(record.facets['CF Standard Name Table']).toEqual([
        'solar_irradiance',
        'atmosphere_mole_content_of_ozone'
      ]);
      expect(
        record.facets['Getty Thesaurus of Geographic Names (TGN)']
      ).toEqual(['Belgium', 'Luxembourg', 'Antarctica']);
      expect(record.facets.keywords).toEqual(['Federal viewer']);
      expect(record.dates).toEqual({ created: '1993-03-29' });
      expect(record.spatial).toBeUndefined();
    });

    it('reads online resources with their protocol', () => {
      expect(result!.records[0].access).toEqual([
        {
          url: 'https://wms.ngi.be/inspire/aeronomie/service?request=GetCapabilities&service=WMS&version=1.3.0',
          protocol: 'wms',
          service: 'OGC:WMS',
          name: 'View service',
          description: 'View service'
        },
        {
          url: 'https://wms.ngi.be/inspire/aeronomie/service',
          protocol: 'wms',
          service: 'OGC:WMS',
          description: 'OGC:WMS'
        }
      ]);
      expect(result!.records[1].access).toEqual([
        {
          url: 'http://catalog.zamg.ac.at/geonetwork/srv/ger/csw-inspire?SERVICE=CSW&VERSION=2.0.2&REQUEST=GetCapabilities&language=ger',
          protocol: 'http'
        }
      ]);
    });

    it('reads the use constraints as the licence', () => {
      expect(result!.records[0].licence?.text).toBe(
        '•The custodian of the resource holds the rights of property (including the rights of intellectual property) to the geographic files •The custodian grants the user the right to use the data for his internal use. •Commercial use of the data under any form is strictly forbidden •Custodian’s name must be mentioned each time the data are being used publically.'
      );
      expect(result!.records[1].licence).toEqual({
        text: 'No conditions apply to access and use',
        url: 'http://inspire.ec.europa.eu/metadata-codelist/ConditionsApplyingToAccessAndUse/noConditionsApply'
      });
    });

    it('reads INSPIRE access constraints (otherRestrictions + otherConstraints) as the licence when the use constraints are gone, never the use-limitation note', () => {
      // The same recorded answer, less its gmd:useConstraints blocks: each record
      // keeps a gmd:useLimitation note and an accessConstraints=otherRestrictions block.
      const doc = new DOMParser().parseFromString(
        readFixture(ISO_RESPONSE),
        'application/xml'
      );
      for (const use of Array.from(
        doc.getElementsByTagNameNS(GMD, 'useConstraints')
      )) {
        const block = use.parentElement!.parentElement!;
        block.parentElement!.removeChild(block);
      }
      const stripped = parseCswGetRecordsResponse(
        new XMLSerializer().serializeToString(doc),
        'inspire'
      );
      const noLimitations = {
        text: 'No limitations on public access',
        url: 'http://inspire.ec.europa.eu/metadata-codelist/LimitationsOnPublicAccess/noLimitations'
      };
      expect(stripped.records.map(record => record.licence)).toEqual([
        noLimitations,
        noLimitations
      ]);
    });

    it('reads the geographic extent of the second record', () => {
      const record = result!.records[1];
      expect(record.title).toBe('CSW Suchdienst der ZAMG');
      expect(record.spatial).toEqual({
        bbox: [9.53357, 46.40749, 17.16639, 49.01875]
      });
      expect(record.facets.format).toEqual(['application/vnd.ogc.csw_xml']);
      expect(record.facets.keywords).toEqual(['humanCatalogueViewer']);
    });

    it('writes a citation from the point of contact and the creation date', () => {
      expect(result!.records[0].citation).toEqual({
        text: 'National Geographic Institute (1993): SUVIM station network WMS.'
      });
      expect(result!.records[1].citation).toEqual({
        text: 'ZAMG - Zentralanstalt für Meteorologie und Geodynamik (2013): CSW Suchdienst der ZAMG.'
      });
    });
  }
);

const ISO_WITH_DOI = `<?xml version="1.0" encoding="UTF-8"?>
<csw:GetRecordByIdResponse xmlns:csw="http://www.opengis.net/cat/csw/2.0.2">
  <gmd:MD_Metadata xmlns:gmd="http://www.isotc211.org/2005/gmd" xmlns:gco="http://www.isotc211.org/2005/gco"
      xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:gmx="http://www.isotc211.org/2005/gmx"
      xmlns:xlink="http://www.w3.org/1999/xlink">
    <gmd:fileIdentifier><gco:CharacterString>ipsl-sst-1</gco:CharacterString></gmd:fileIdentifier>
    <gmd:identificationInfo>
      <gmd:MD_DataIdentification>
        <gmd:citation><gmd:CI_Citation>
          <gmd:title><gco:CharacterString>Sea surface temperature &lt;b&gt;analysis&lt;/b&gt;</gco:CharacterString></gmd:title>
          <gmd:date><gmd:CI_Date><gmd:date><gco:Date>2021-06-01</gco:Date></gmd:date>
            <gmd:dateType><gmd:CI_DateTypeCode codeList="x" codeListValue="publication"/></gmd:dateType></gmd:CI_Date></gmd:date>
          <gmd:identifier><gmd:MD_Identifier><gmd:code><gmx:Anchor xlink:href="https://doi.org/10.14768/ABC-123">https://doi.org/10.14768/ABC-123</gmx:Anchor></gmd:code></gmd:MD_Identifier></gmd:identifier>
          <gmd:citedResponsibleParty><gmd:CI_ResponsibleParty>
            <gmd:organisationName><gco:CharacterString>IPSL</gco:CharacterString></gmd:organisationName>
            <gmd:role><gmd:CI_RoleCode codeList="x" codeListValue="author"/></gmd:role>
          </gmd:CI_ResponsibleParty></gmd:citedResponsibleParty>
          <gmd:citedResponsibleParty><gmd:CI_ResponsibleParty>
            <gmd:organisationName><gco:CharacterString>AERIS</gco:CharacterString></gmd:organisationName>
            <gmd:role><gmd:CI_RoleCode codeList="x" codeListValue="publisher"/></gmd:role>
          </gmd:CI_ResponsibleParty></gmd:citedResponsibleParty>
        </gmd:CI_Citation></gmd:citation>
        <gmd:abstract><gco:CharacterString>Daily SST.</gco:CharacterString></gmd:abstract>
        <gmd:resourceConstraints><gmd:MD_LegalConstraints>
          <gmd:useConstraints><gmd:MD_RestrictionCode codeList="x" codeListValue="license"/></gmd:useConstraints>
          <gmd:otherConstraints><gmx:Anchor xlink:href="https://creativecommons.org/licenses/by/4.0/">CC-BY-4.0</gmx:Anchor></gmd:otherConstraints>
        </gmd:MD_LegalConstraints></gmd:resourceConstraints>
        <gmd:extent><gmd:EX_Extent><gmd:temporalElement><gmd:EX_TemporalExtent><gmd:extent>
          <gml:TimePeriod gml:id="t1"><gml:beginPosition>1982-01-01</gml:beginPosition><gml:endPosition indeterminatePosition="now"/></gml:TimePeriod>
        </gmd:extent></gmd:EX_TemporalExtent></gmd:temporalElement></gmd:EX_Extent></gmd:extent>
      </gmd:MD_DataIdentification>
    </gmd:identificationInfo>
    <gmd:distributionInfo><gmd:MD_Distribution><gmd:transferOptions><gmd:MD_DigitalTransferOptions>
      <gmd:onLine><gmd:CI_OnlineResource><gmd:linkage><gmd:URL>https://thredds.example/thredds/dodsC/sst.nc</gmd:URL></gmd:linkage>
        <gmd:protocol><gco:CharacterString>OPeNDAP:OPeNDAP</gco:CharacterString></gmd:protocol></gmd:CI_OnlineResource></gmd:onLine>
      <gmd:onLine><gmd:CI_OnlineResource><gmd:linkage><gmd:URL>javascript:alert(1)</gmd:URL></gmd:linkage></gmd:CI_OnlineResource></gmd:onLine>
    </gmd:MD_DigitalTransferOptions></gmd:transferOptions></gmd:MD_Distribution></gmd:distributionInfo>
  </gmd:MD_Metadata>
</csw:GetRecordByIdResponse>`;

describe('parseCswGetRecordByIdResponse', () => {
  const [record] = parseCswGetRecordByIdResponse(ISO_WITH_DOI, 'geonetwork');

  it('normalises a DOI written as a doi.org URL', () => {
    expect(record.identifiers).toEqual({ doi: '10.14768/ABC-123' });
  });

  it('reads the licence, an open-ended period and an OPeNDAP resource', () => {
    expect(record.licence).toEqual({
      text: 'CC-BY-4.0',
      url: 'https://creativecommons.org/licenses/by/4.0/'
    });
    expect(record.temporal).toEqual({ start: '1982-01-01' });
    expect(record.access).toEqual([
      {
        url: 'https://thredds.example/thredds/dodsC/sst.nc',
        protocol: 'opendap',
        service: 'OPeNDAP:OPeNDAP',
        description: 'OPeNDAP:OPeNDAP'
      }
    ]);
  });

  it('cites authors, year, publisher and DOI', () => {
    expect(record.citation).toEqual({
      text: 'IPSL (2021): Sea surface temperature <b>analysis</b>. AERIS. https://doi.org/10.14768/ABC-123',
      url: 'https://doi.org/10.14768/ABC-123'
    });
  });

  it('keeps markup in a title as plain text', () => {
    expect(record.title).toBe('Sea surface temperature <b>analysis</b>');
  });

  it('finds a DOI among Dublin Core identifiers', () => {
    const xml = `<csw:GetRecordByIdResponse xmlns:csw="http://www.opengis.net/cat/csw/2.0.2"
        xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dct="http://purl.org/dc/terms/">
      <csw:Record><dc:identifier>ipsl-1</dc:identifier><dc:identifier>doi:10.5194/essd-12-345-2020</dc:identifier>
        <dc:title>&lt;script&gt;alert(1)&lt;/script&gt;</dc:title><dc:creator>Doe, J.</dc:creator><dc:date>2020-02-03</dc:date>
        <dc:rights>CC-BY-4.0</dc:rights>
        <dct:references scheme="WWW:DOWNLOAD-1.0-http--download">https://data.example/a.nc</dct:references></csw:Record>
    </csw:GetRecordByIdResponse>`;
    const [dc] = parseCswGetRecordByIdResponse(xml, 'x');
    expect(dc.identifiers.doi).toBe('10.5194/essd-12-345-2020');
    expect(dc.title).toBe('<script>alert(1)</script>');
    expect(dc.licence).toEqual({ text: 'CC-BY-4.0' });
    expect(dc.access).toEqual([
      {
        url: 'https://data.example/a.nc',
        protocol: 'http',
        service: 'WWW:DOWNLOAD-1.0-http--download',
        description: 'WWW:DOWNLOAD-1.0-http--download'
      }
    ]);
    expect(dc.citation).toEqual({
      text: 'Doe, J. (2020): <script>alert(1)</script>. https://doi.org/10.5194/essd-12-345-2020',
      url: 'https://doi.org/10.5194/essd-12-345-2020'
    });
  });
});

/**
 * Minimal ISO 19139 (not a recorded answer: no fixture has these cases), written from
 * the gmd schema: a gmd:useLimitation note beside legal constraints that state no
 * licence, and an MD_Distributor whose gmd:distributorContact has a homepage
 * (CI_Contact/onlineResource) beside its gmd:distributorTransferOptions.
 */
const ISO_MINIMAL = `<csw:GetRecordByIdResponse xmlns:csw="http://www.opengis.net/cat/csw/2.0.2">
  <gmd:MD_Metadata xmlns:gmd="http://www.isotc211.org/2005/gmd" xmlns:gco="http://www.isotc211.org/2005/gco">
    <gmd:fileIdentifier><gco:CharacterString>minimal-1</gco:CharacterString></gmd:fileIdentifier>
    <gmd:identificationInfo><gmd:MD_DataIdentification>
      <gmd:citation><gmd:CI_Citation><gmd:title><gco:CharacterString>Minimal</gco:CharacterString></gmd:title></gmd:CI_Citation></gmd:citation>
      <gmd:abstract><gco:CharacterString>x</gco:CharacterString></gmd:abstract>
      <gmd:resourceConstraints><gmd:MD_LegalConstraints>
        <gmd:useLimitation><gco:CharacterString>Not for navigation.</gco:CharacterString></gmd:useLimitation>
        <gmd:accessConstraints><gmd:MD_RestrictionCode codeList="x" codeListValue="copyright"/></gmd:accessConstraints>
      </gmd:MD_LegalConstraints></gmd:resourceConstraints>
    </gmd:MD_DataIdentification></gmd:identificationInfo>
    <gmd:distributionInfo><gmd:MD_Distribution>
      <gmd:distributor><gmd:MD_Distributor>
        <gmd:distributorContact><gmd:CI_ResponsibleParty>
          <gmd:organisationName><gco:CharacterString>Data centre</gco:CharacterString></gmd:organisationName>
          <gmd:contactInfo><gmd:CI_Contact><gmd:onlineResource><gmd:CI_OnlineResource>
            <gmd:linkage><gmd:URL>https://datacentre.example/</gmd:URL></gmd:linkage>
          </gmd:CI_OnlineResource></gmd:onlineResource></gmd:CI_Contact></gmd:contactInfo>
          <gmd:role><gmd:CI_RoleCode codeList="x" codeListValue="distributor"/></gmd:role>
        </gmd:CI_ResponsibleParty></gmd:distributorContact>
        <gmd:distributorTransferOptions><gmd:MD_DigitalTransferOptions><gmd:onLine><gmd:CI_OnlineResource>
          <gmd:linkage><gmd:URL>https://datacentre.example/data/a.nc</gmd:URL></gmd:linkage>
          <gmd:protocol><gco:CharacterString>WWW:DOWNLOAD-1.0-http--download</gco:CharacterString></gmd:protocol>
        </gmd:CI_OnlineResource></gmd:onLine></gmd:MD_DigitalTransferOptions></gmd:distributorTransferOptions>
      </gmd:MD_Distributor></gmd:distributor>
      <gmd:transferOptions><gmd:MD_DigitalTransferOptions><gmd:onLine><gmd:CI_OnlineResource>
        <gmd:linkage><gmd:URL>https://datacentre.example/thredds/dodsC/a.nc</gmd:URL></gmd:linkage>
        <gmd:protocol><gco:CharacterString>OPeNDAP:OPeNDAP</gco:CharacterString></gmd:protocol>
      </gmd:CI_OnlineResource></gmd:onLine></gmd:MD_DigitalTransferOptions></gmd:transferOptions>
    </gmd:MD_Distribution></gmd:distributionInfo>
  </gmd:MD_Metadata>
</csw:GetRecordByIdResponse>`;

describe('ISO 19139 licence and access links (minimal XML from the gmd schema)', () => {
  const [record] = parseCswGetRecordByIdResponse(ISO_MINIMAL, 'x');

  it('does not take a use-limitation note, nor an access constraint without otherConstraints, for the licence', () => {
    expect(record.licence).toBeUndefined();
  });

  it("takes only transfer options as access links, not the distributor contact's homepage", () => {
    expect(record.access).toEqual([
      {
        url: 'https://datacentre.example/data/a.nc',
        protocol: 'http',
        service: 'WWW:DOWNLOAD-1.0-http--download',
        description: 'WWW:DOWNLOAD-1.0-http--download'
      },
      {
        url: 'https://datacentre.example/thredds/dodsC/a.nc',
        protocol: 'opendap',
        service: 'OPeNDAP:OPeNDAP',
        description: 'OPeNDAP:OPeNDAP'
      }
    ]);
  });
});

describe('CSW bad input', () => {
  it('says malformed XML is malformed', () => {
    expect(() =>
      parseCswGetRecordsResponse(
        '<csw:GetRecordsResponse xmlns:csw="x"><a></b>',
        'x'
      )
    ).toThrow(CatalogParseError);
    expect(() =>
      parseCswGetRecordsResponse('<csw:GetRecordsResponse><unclosed>', 'x')
    ).toThrow(/^Cannot read CSW GetRecords response: malformed XML/);
  });

  it("passes on the server's exception report", () => {
    const report = `<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows" version="1.2.0">
      <ows:Exception exceptionCode="InvalidParameterValue" locator="outputschema">
        <ows:ExceptionText>Invalid outputSchema parameter value: foo</ows:ExceptionText>
      </ows:Exception></ows:ExceptionReport>`;
    expect(() => parseCswGetRecordsResponse(report, 'x')).toThrow(
      'Cannot read CSW GetRecords response: the CSW server reported an error (InvalidParameterValue: Invalid outputSchema parameter value: foo)'
    );
  });

  it('says an XML document of another kind is not a GetRecords response', () => {
    const thredds =
      '<catalog xmlns="http://www.unidata.ucar.edu/namespaces/thredds/InvCatalog/v1.0"/>';
    expect(() => parseCswGetRecordsResponse(thredds, 'x')).toThrow(
      'Cannot read CSW GetRecords response: not a CSW 2.0.2 GetRecordsResponse: the root element is <catalog> in namespace http://www.unidata.ucar.edu/namespaces/thredds/InvCatalog/v1.0'
    );
    expect(() =>
      parseCswGetRecordsResponse(
        '<csw:GetRecordsResponse xmlns:csw="http://www.opengis.net/cat/csw/2.0.2"/>',
        'x'
      )
    ).toThrow(/no <csw:SearchResults>/);
  });

  it('says an HTML page is not a CSW answer', () => {
    expect(() =>
      parseCswGetRecordsResponse(
        '<html><head><title>Error</title></head></html>',
        'x'
      )
    ).toThrow(
      'Cannot read CSW GetRecords response: expected XML but got an HTML page'
    );
  });
});
