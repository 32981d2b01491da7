/**
 * CSW records read into `DatasetRecord`s: Dublin Core (`csw:Record`, `SummaryRecord`,
 * `BriefRecord`) and ISO 19139 (`gmd:MD_Metadata`, `gmi:MI_Metadata`), with their
 * extents, access URLs, DOIs, licences and citations.
 *
 * Specification: OGC 07-006r1 (CSW 2.0.2), OGC 07-045 (ISO application profile).
 */
import {
  BBox,
  DatasetRecord,
  RecordAccessUrl,
  addFacet,
  emptyRecord,
  findDoi,
  formatCitation,
  guessProtocol,
  identifierUrl,
  makeBBox,
  normaliseDoi,
  safeUrl,
  unionBBox
} from '../record';
import { NS, attr, child, children, descendants, path, text } from './xml';

/**
 * Axis order of an `ows:BoundingBox`: EPSG 4326 in URN or http URI form is
 * latitude-first; CRS84 and the bare `EPSG:4326` of older servers are longitude-first.
 */
function latitudeFirst(crs: string | undefined): boolean {
  if (crs === undefined) {
    return false;
  }
  return /^(urn:(x-)?ogc:def:crs:EPSG:[\d.]*:4326|https?:\/\/www\.opengis\.net\/def\/crs\/EPSG\/0\/4326)$/i.test(
    crs
  );
}

function owsBBox(element: Element): BBox | undefined {
  const lower = (text(child(element, NS.ows, 'LowerCorner')) ?? '')
    .split(/\s+/)
    .map(Number);
  const upper = (text(child(element, NS.ows, 'UpperCorner')) ?? '')
    .split(/\s+/)
    .map(Number);
  if (lower.length !== 2 || upper.length !== 2) {
    return undefined;
  }
  const swap =
    element.localName === 'BoundingBox' && latitudeFirst(attr(element, 'crs'));
  return swap
    ? makeBBox(lower[1], lower[0], upper[1], upper[0])
    : makeBBox(lower[0], lower[1], upper[0], upper[1]);
}

function dcTexts(record: Element, ns: string, local: string): string[] {
  return children(record, ns, local)
    .map(element => text(element))
    .filter((value): value is string => value !== undefined);
}

/** `start/end` (ISO 8601 interval) or a DCMI Period (`start=...; end=...;`). */
function parsePeriod(value: string): { start?: string; end?: string } {
  const out: { start?: string; end?: string } = {};
  if (value.includes('=')) {
    for (const part of value.split(';')) {
      const [key, ...rest] = part.split('=');
      const partValue = rest.join('=').trim();
      if (key.trim() === 'start' && partValue) {
        out.start = partValue;
      } else if (key.trim() === 'end' && partValue) {
        out.end = partValue;
      }
    }
    return out;
  }
  const [start, end] = value.split('/');
  if (start?.trim() && start.trim() !== '..') {
    out.start = start.trim();
  }
  if (end?.trim() && end.trim() !== '..') {
    out.end = end.trim();
  }
  return out;
}

function addAccess(
  record: DatasetRecord,
  url: string | undefined,
  service: string | undefined,
  name?: string
): void {
  const safe = safeUrl(url);
  if (safe === undefined) {
    return;
  }
  const protocol = guessProtocol({ url: safe, service });
  if (
    record.access.some(item => item.url === safe && item.protocol === protocol)
  ) {
    return;
  }
  const access: RecordAccessUrl = { url: safe, protocol };
  if (service !== undefined) {
    access.service = service;
  }
  if (name !== undefined) {
    access.name = name;
  }
  const description = name ?? service;
  if (description !== undefined) {
    access.description = description;
  }
  record.access.push(access);
}

/**
 * A record from a Dublin Core `csw:Record`, `csw:SummaryRecord` or `csw:BriefRecord`.
 */
export function dublinCoreToRecord(
  element: Element,
  catalogId: string
): DatasetRecord {
  const identifiers = dcTexts(element, NS.dc, 'identifier');
  const id = identifiers[0] ?? 'unidentified';
  const title = dcTexts(element, NS.dc, 'title')[0] ?? id;
  const record = emptyRecord(id, title, catalogId, 'csw');
  const description =
    dcTexts(element, NS.dct, 'abstract')[0] ??
    dcTexts(element, NS.dc, 'description')[0];
  if (description !== undefined) {
    record.description = description;
  }
  for (const [ns, local] of [
    [NS.dc, 'subject'],
    [NS.dc, 'type'],
    [NS.dc, 'format'],
    [NS.dc, 'creator'],
    [NS.dc, 'publisher'],
    [NS.dc, 'contributor'],
    [NS.dc, 'language'],
    [NS.dct, 'spatial']
  ] as const) {
    addFacet(record.facets, local, dcTexts(element, ns, local));
  }

  const boxes = [
    ...children(element, NS.ows, 'BoundingBox'),
    ...children(element, NS.ows, 'WGS84BoundingBox')
  ]
    .map(owsBBox)
    .filter((box): box is BBox => box !== undefined);
  const bbox = unionBBox(boxes);
  if (bbox !== undefined) {
    record.spatial = { bbox };
  }
  const temporal = dcTexts(element, NS.dct, 'temporal')[0];
  if (temporal !== undefined) {
    const period = parsePeriod(temporal);
    if (period.start !== undefined || period.end !== undefined) {
      record.temporal = period;
    }
  }

  for (const reference of children(element, NS.dct, 'references')) {
    addAccess(record, text(reference), attr(reference, 'scheme'));
  }
  for (const uri of children(element, NS.dc, 'URI')) {
    addAccess(record, text(uri), attr(uri, 'protocol'), attr(uri, 'name'));
  }

  const dates: NonNullable<DatasetRecord['dates']> = {};
  const modified =
    dcTexts(element, NS.dct, 'modified')[0] ??
    dcTexts(element, NS.dc, 'date')[0];
  const created = dcTexts(element, NS.dct, 'created')[0];
  const issued = dcTexts(element, NS.dct, 'issued')[0];
  if (modified !== undefined) {
    dates.modified = modified;
  }
  if (created !== undefined) {
    dates.created = created;
  }
  if (issued !== undefined) {
    dates.issued = issued;
  }
  if (Object.keys(dates).length > 0) {
    record.dates = dates;
  }

  const doi =
    identifiers.map(normaliseDoi).find(Boolean) ??
    record.access
      .map(item =>
        /doi\.org\//i.test(item.url) ? findDoi(item.url) : undefined
      )
      .find(Boolean) ??
    dcTexts(element, NS.dct, 'bibliographicCitation')
      .map(findDoi)
      .find(Boolean);
  if (doi !== undefined) {
    record.identifiers.doi = doi;
  }

  const licence =
    dcTexts(element, NS.dct, 'license')[0] ??
    dcTexts(element, NS.dc, 'rights')[0] ??
    dcTexts(element, NS.dct, 'accessRights')[0];
  if (licence !== undefined) {
    const url = safeUrl(licence);
    record.licence =
      url === undefined ? { text: licence } : { text: licence, url };
  }

  const written = dcTexts(element, NS.dct, 'bibliographicCitation')[0];
  const resolver = identifierUrl(record.identifiers);
  if (written !== undefined || resolver !== undefined) {
    record.citation = {
      text:
        written ??
        formatCitation({
          creators: dcTexts(element, NS.dc, 'creator'),
          year: (dates.issued ?? dates.created ?? dates.modified)?.slice(0, 4),
          title,
          publisher: dcTexts(element, NS.dc, 'publisher')[0],
          url: resolver
        })
    };
    if (resolver !== undefined) {
      record.citation.url = resolver;
    }
  }
  return record;
}

/**
 * The text of an ISO 19139 property: its `gco:CharacterString`, `gmx:Anchor`, other
 * `gco:` value or `gmd:URL`, else the first localised string of its `PT_FreeText`.
 */
function isoText(property: Element | undefined): string | undefined {
  if (property === undefined) {
    return undefined;
  }
  for (const value of Array.from(property.children)) {
    if (
      value.namespaceURI === NS.gco ||
      (value.namespaceURI === NS.gmx && value.localName === 'Anchor') ||
      (value.namespaceURI === NS.gmd && value.localName === 'URL')
    ) {
      const found = text(value);
      if (found !== undefined) {
        return found;
      }
    }
  }
  const localised = path(property, [
    [NS.gmd, 'PT_FreeText'],
    [NS.gmd, 'textGroup'],
    [NS.gmd, 'LocalisedCharacterString']
  ]);
  return localised.map(element => text(element)).find(Boolean);
}

/** The `xlink:href` of a property's `gmx:Anchor`, if it has one. */
function anchorHref(property: Element): string | undefined {
  const anchor = child(property, NS.gmx, 'Anchor');
  return anchor === undefined ? undefined : attr(anchor, 'href', NS.xlink);
}

function codeValue(element: Element | undefined): string | undefined {
  if (element === undefined) {
    return undefined;
  }
  const code = element.firstElementChild;
  return code === null
    ? undefined
    : (attr(code, 'codeListValue') ?? text(code));
}

function organisations(parties: Element[], roles?: string[]): string[] {
  const out: string[] = [];
  for (const party of parties) {
    const responsible = child(party, NS.gmd, 'CI_ResponsibleParty');
    if (responsible === undefined) {
      continue;
    }
    const role = codeValue(child(responsible, NS.gmd, 'role'));
    if (roles !== undefined && (role === undefined || !roles.includes(role))) {
      continue;
    }
    const name =
      isoText(child(responsible, NS.gmd, 'organisationName')) ??
      isoText(child(responsible, NS.gmd, 'individualName'));
    if (name !== undefined && !out.includes(name)) {
      out.push(name);
    }
  }
  return out;
}

function isoDates(
  citation: Element | undefined
): NonNullable<DatasetRecord['dates']> {
  const dates: NonNullable<DatasetRecord['dates']> = {};
  if (citation === undefined) {
    return dates;
  }
  for (const entry of path(citation, [
    [NS.gmd, 'date'],
    [NS.gmd, 'CI_Date']
  ])) {
    const value = isoText(child(entry, NS.gmd, 'date'));
    const type = codeValue(child(entry, NS.gmd, 'dateType'));
    if (value === undefined) {
      continue;
    }
    if (type === 'creation') {
      dates.created = value;
    } else if (type === 'revision') {
      dates.modified = value;
    } else if (type === 'publication') {
      dates.issued = value;
    }
  }
  return dates;
}

function isoTemporal(
  identification: Element
): { start?: string; end?: string } | undefined {
  for (const extent of descendants(
    identification,
    NS.gmd,
    'EX_TemporalExtent'
  )) {
    for (const gml of [NS.gml, NS.gml32]) {
      const period = descendants(extent, gml, 'TimePeriod')[0];
      if (period !== undefined) {
        // GML 3.1 writes beginPosition/endPosition; GML 3.0 style wraps TimeInstants in
        // begin/end. An open end (indeterminatePosition="now") has no text: left open.
        const bound = (
          position: string,
          wrapper: string
        ): string | undefined => {
          const wrapped = child(period, gml, wrapper);
          return (
            text(child(period, gml, position)) ??
            (wrapped === undefined
              ? undefined
              : text(descendants(wrapped, gml, 'timePosition')[0]))
          );
        };
        const start = bound('beginPosition', 'begin');
        const end = bound('endPosition', 'end');
        const out: { start?: string; end?: string } = {};
        if (start !== undefined) {
          out.start = start;
        }
        if (end !== undefined) {
          out.end = end;
        }
        return out;
      }
      const instant = descendants(extent, gml, 'TimeInstant')[0];
      const position =
        instant === undefined
          ? undefined
          : text(child(instant, gml, 'timePosition'));
      if (position !== undefined) {
        return { start: position, end: position };
      }
    }
  }
  return undefined;
}

/** The licence a `gmd:MD_LegalConstraints` states in its `otherConstraints`. */
function otherConstraintsLicence(legal: Element): DatasetRecord['licence'] {
  const others = children(legal, NS.gmd, 'otherConstraints');
  const texts = others
    .map(isoText)
    .filter((value): value is string => value !== undefined);
  if (texts.length === 0) {
    return undefined;
  }
  const url = safeUrl(others.map(anchorHref).find(Boolean));
  const licenceText = texts.join('\n');
  return url === undefined ? { text: licenceText } : { text: licenceText, url };
}

function isoLicence(identification: Element): DatasetRecord['licence'] {
  const legals = children(identification, NS.gmd, 'resourceConstraints')
    .map(block => child(block, NS.gmd, 'MD_LegalConstraints'))
    .filter((legal): legal is Element => legal !== undefined);
  // ISO 19115 and INSPIRE state the licence in the legal constraints: the use
  // constraints first, else access constraints of "otherRestrictions" spelled out in
  // otherConstraints. A gmd:useLimitation is a free note on fitness for use, not a
  // licence, so it is never read as one.
  for (const legal of legals) {
    const use = child(legal, NS.gmd, 'useConstraints');
    if (use === undefined) {
      continue;
    }
    const licence = otherConstraintsLicence(legal);
    if (licence !== undefined) {
      return licence;
    }
    const code = codeValue(use);
    if (code !== undefined && code !== 'otherRestrictions') {
      return { text: code };
    }
  }
  for (const legal of legals) {
    if (
      codeValue(child(legal, NS.gmd, 'accessConstraints')) ===
      'otherRestrictions'
    ) {
      const licence = otherConstraintsLicence(legal);
      if (licence !== undefined) {
        return licence;
      }
    }
  }
  return undefined;
}

/**
 * A record from an ISO 19139 `gmd:MD_Metadata` (or `gmi:MI_Metadata`), for datasets
 * and services alike.
 */
export function isoToRecord(
  metadata: Element,
  catalogId: string
): DatasetRecord {
  const id =
    isoText(child(metadata, NS.gmd, 'fileIdentifier')) ?? 'unidentified';
  const identification =
    child(metadata, NS.gmd, 'identificationInfo')?.firstElementChild ??
    undefined;
  const citation =
    identification === undefined
      ? undefined
      : path(identification, [
          [NS.gmd, 'citation'],
          [NS.gmd, 'CI_Citation']
        ])[0];
  const title = (citation && isoText(child(citation, NS.gmd, 'title'))) ?? id;
  const record = emptyRecord(id, title, catalogId, 'csw');

  for (const level of children(metadata, NS.gmd, 'hierarchyLevel')) {
    addFacet(record.facets, 'type', codeValue(level));
  }
  const distribution = child(metadata, NS.gmd, 'distributionInfo');
  if (distribution !== undefined) {
    for (const format of descendants(distribution, NS.gmd, 'MD_Format')) {
      addFacet(record.facets, 'format', isoText(child(format, NS.gmd, 'name')));
    }
  }

  const resources: Element[] = [];
  if (identification !== undefined) {
    const abstract = isoText(child(identification, NS.gmd, 'abstract'));
    if (abstract !== undefined) {
      record.description = abstract;
    }
    for (const keywords of path(identification, [
      [NS.gmd, 'descriptiveKeywords'],
      [NS.gmd, 'MD_Keywords']
    ])) {
      const thesaurus = path(keywords, [
        [NS.gmd, 'thesaurusName'],
        [NS.gmd, 'CI_Citation'],
        [NS.gmd, 'title']
      ])[0];
      const key = isoText(thesaurus) ?? 'keywords';
      addFacet(
        record.facets,
        key,
        children(keywords, NS.gmd, 'keyword').map(isoText)
      );
    }
    for (const topic of children(identification, NS.gmd, 'topicCategory')) {
      addFacet(record.facets, 'topicCategory', text(topic));
    }

    const boxes = descendants(
      identification,
      NS.gmd,
      'EX_GeographicBoundingBox'
    )
      .map(box =>
        makeBBox(
          isoText(child(box, NS.gmd, 'westBoundLongitude')),
          isoText(child(box, NS.gmd, 'southBoundLatitude')),
          isoText(child(box, NS.gmd, 'eastBoundLongitude')),
          isoText(child(box, NS.gmd, 'northBoundLatitude'))
        )
      )
      .filter((box): box is BBox => box !== undefined);
    const bbox = unionBBox(boxes);
    if (bbox !== undefined) {
      record.spatial = { bbox };
    }
    const temporal = isoTemporal(identification);
    if (
      temporal !== undefined &&
      (temporal.start !== undefined || temporal.end !== undefined)
    ) {
      record.temporal = temporal;
    }
    const licence = isoLicence(identification);
    if (licence !== undefined) {
      record.licence = licence;
    }
    resources.push(
      ...descendants(identification, NS.srv, 'connectPoint').flatMap(point =>
        children(point, NS.gmd, 'CI_OnlineResource')
      )
    );
  }
  if (distribution !== undefined) {
    // Only transfer options lead to the data; the other online resources under
    // distributionInfo are contacts' homepages (gmd:distributorContact).
    resources.unshift(
      ...descendants(distribution, NS.gmd, 'MD_DigitalTransferOptions').flatMap(
        options =>
          path(options, [
            [NS.gmd, 'onLine'],
            [NS.gmd, 'CI_OnlineResource']
          ])
      )
    );
  }
  for (const resource of resources) {
    addAccess(
      record,
      isoText(child(resource, NS.gmd, 'linkage')),
      isoText(child(resource, NS.gmd, 'protocol')),
      isoText(child(resource, NS.gmd, 'name')) ??
        isoText(child(resource, NS.gmd, 'description'))
    );
  }

  const dates = isoDates(citation);
  if (Object.keys(dates).length > 0) {
    record.dates = dates;
  }

  const codes =
    citation === undefined
      ? []
      : children(citation, NS.gmd, 'identifier').flatMap(identifier =>
          Array.from(identifier.children).map(value => ({
            code: isoText(child(value, NS.gmd, 'code')),
            space: isoText(child(value, NS.gmd, 'codeSpace'))
          }))
        );
  const doi =
    codes
      .map(({ code, space }) =>
        space !== undefined && /doi/i.test(space)
          ? (normaliseDoi(code) ?? findDoi(code))
          : normaliseDoi(code)
      )
      .find(Boolean) ??
    record.access
      .map(item =>
        /doi\.org\//i.test(item.url) ? findDoi(item.url) : undefined
      )
      .find(Boolean);
  if (doi !== undefined) {
    record.identifiers.doi = doi;
  }

  const authors =
    citation === undefined
      ? []
      : organisations(children(citation, NS.gmd, 'citedResponsibleParty'), [
          'author',
          'originator',
          'principalInvestigator'
        ]);
  const creators =
    authors.length > 0
      ? authors
      : identification === undefined
        ? []
        : organisations(children(identification, NS.gmd, 'pointOfContact'));
  const publisher =
    citation === undefined
      ? undefined
      : organisations(children(citation, NS.gmd, 'citedResponsibleParty'), [
          'publisher'
        ])[0];
  const resolver = identifierUrl(record.identifiers);
  record.citation = {
    text: formatCitation({
      creators,
      year: (dates.issued ?? dates.created ?? dates.modified)?.slice(0, 4),
      title,
      publisher,
      url: resolver
    })
  };
  if (resolver !== undefined) {
    record.citation.url = resolver;
  }
  return record;
}
