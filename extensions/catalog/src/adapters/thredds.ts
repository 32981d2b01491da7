/**
 * THREDDS catalog.xml (InvCatalog 1.0): catalogue references, nested datasets, and
 * services resolved into access URLs, with sizes, dates and ESGF's properties.
 *
 * Specification: https://docs.unidata.ucar.edu/tds/current/userguide/client_side_catalog_specification.html
 */
import {
  BBox,
  CatalogParseError,
  DatasetRecord,
  RecordAccessProtocol,
  RecordAccessUrl,
  RecordVariable,
  addFacet,
  asNumber,
  emptyRecord,
  guessProtocol,
  makeBBox,
  makeChecksum,
  normaliseDoi,
  normalisePid,
  safeUrl,
  setDefined,
  toBytes
} from '../record';
import {
  NS,
  attr,
  children,
  child,
  childText,
  describeElement,
  parseXml,
  text
} from './xml';

/**
 * A service of the catalogue; a compound service holds others.
 */
export interface ThreddsService {
  name: string;
  serviceType: string;
  /** The base as written (often a path such as `/thredds/dodsC/`). */
  base: string;
  services: ThreddsService[];
}

export interface ThreddsCatalogRef {
  kind: 'catalogRef';
  /** The referenced catalogue's URL, resolved against the catalogue's URL. */
  href: string;
  title: string;
  id?: string;
}

export interface ThreddsDataset {
  kind: 'dataset';
  name: string;
  urlPath?: string;
  record: DatasetRecord;
  children: ThreddsNode[];
}

export type ThreddsNode = ThreddsDataset | ThreddsCatalogRef;

export interface ThreddsCatalog {
  name?: string;
  version?: string;
  services: ThreddsService[];
  /** Top-level datasets and catalogue references, in document order. */
  children: ThreddsNode[];
}

/** Metadata a dataset passes to its descendants (`<metadata inherited="true">`). */
interface Inherited {
  serviceName?: string;
  dataFormat?: string;
  bbox?: BBox;
  start?: string;
  end?: string | null;
}

/** Properties that are identifiers or bookkeeping, not facets. */
const NOT_FACETS = new Set([
  'dataset_id',
  'dataset_version',
  'file_id',
  'file_version',
  'size',
  'mod_time',
  'creation_time',
  'tracking_id',
  'checksum',
  'checksum_type',
  'title',
  'aggregation_id',
  'time_length',
  'catalog_version',
  'format',
  'pid',
  'doi',
  'dataset_id_template_',
  'directory_format_template_',
  'citation_url'
]);

const FORMAT_MEDIA_TYPES: Record<string, string> = {
  netcdf: 'application/x-netcdf',
  'netcdf-4': 'application/x-netcdf',
  hdf5: 'application/x-hdf5',
  grib: 'application/x-grib',
  'grib-1': 'application/x-grib',
  'grib-2': 'application/x-grib'
};

function parseServices(parent: Element): ThreddsService[] {
  return children(parent, NS.thredds, 'service').map(element => ({
    name: attr(element, 'name') ?? '',
    serviceType: attr(element, 'serviceType') ?? '',
    base: attr(element, 'base') ?? '',
    services: parseServices(element)
  }));
}

function indexServices(
  services: ThreddsService[],
  index: Map<string, ThreddsService>
): void {
  for (const service of services) {
    if (!index.has(service.name)) {
      index.set(service.name, service);
    }
    indexServices(service.services, index);
  }
}

/** A compound service stands for its members; nested compounds are flattened. */
function expandService(service: ThreddsService): ThreddsService[] {
  return service.serviceType.toLowerCase() === 'compound'
    ? service.services.flatMap(expandService)
    : [service];
}

function protocolOf(serviceType: string, url: string): RecordAccessProtocol {
  const type = serviceType.toLowerCase();
  if (type === 'file') {
    return 'file';
  }
  return guessProtocol({
    url,
    service: type === 'httpserver' ? 'http' : serviceType
  });
}

function joinServiceUrl(
  base: string,
  urlPath: string,
  catalogUrl: string
): string | undefined {
  // THREDDS appends urlPath to the service base; one slash between them.
  const joined =
    base.endsWith('/') && urlPath.startsWith('/')
      ? base + urlPath.slice(1)
      : base + urlPath;
  return safeUrl(joined, catalogUrl);
}

function metadataChildren(dataset: Element, inheritedOnly: boolean): Element[] {
  return children(dataset, NS.thredds, 'metadata').filter(
    element => !inheritedOnly || attr(element, 'inherited') === 'true'
  );
}

/**
 * A value from the dataset's own elements, else from its `<metadata>` blocks (the
 * inherited ones included: the dataset is in their scope too).
 */
function ownOrMetadata(dataset: Element, local: string): Element | undefined {
  return (
    child(dataset, NS.thredds, local) ??
    metadataChildren(dataset, false)
      .map(m => child(m, NS.thredds, local))
      .find(Boolean)
  );
}

function coverageBBox(element: Element | undefined): BBox | undefined {
  if (element === undefined) {
    return undefined;
  }
  const northSouth = child(element, NS.thredds, 'northsouth');
  const eastWest = child(element, NS.thredds, 'eastwest');
  if (northSouth === undefined || eastWest === undefined) {
    return undefined;
  }
  const south = asNumber(childText(northSouth, NS.thredds, 'start'));
  const latSize = asNumber(childText(northSouth, NS.thredds, 'size'));
  const west = asNumber(childText(eastWest, NS.thredds, 'start'));
  const lonSize = asNumber(childText(eastWest, NS.thredds, 'size'));
  if (
    south === undefined ||
    latSize === undefined ||
    west === undefined ||
    lonSize === undefined
  ) {
    return undefined;
  }
  return makeBBox(west, south, west + lonSize, south + latSize);
}

/**
 * A time coverage's start and end. An end of `present` (the THREDDS dateType keyword
 * for a series still growing) is an open end, null here so that it overrides an
 * inherited end date; the record leaves an open end out.
 */
function timeCoverage(element: Element | undefined): {
  start?: string;
  end?: string | null;
} {
  if (element === undefined) {
    return {};
  }
  const out: { start?: string; end?: string | null } = {};
  const start = childText(element, NS.thredds, 'start');
  const end = childText(element, NS.thredds, 'end');
  if (start !== undefined) {
    out.start = start;
  }
  if (end !== undefined) {
    out.end = end.toLowerCase() === 'present' ? null : end;
  }
  return out;
}

/** The metadata of `dataset` its descendants inherit, layered over its ancestors'. */
function inheritFrom(dataset: Element, parent: Inherited): Inherited {
  const next: Inherited = { ...parent };
  for (const metadata of metadataChildren(dataset, true)) {
    const serviceName = childText(metadata, NS.thredds, 'serviceName');
    if (serviceName !== undefined) {
      next.serviceName = serviceName;
    }
    const format = childText(metadata, NS.thredds, 'dataFormat');
    if (format !== undefined) {
      next.dataFormat = format;
    }
    const bbox = coverageBBox(
      child(metadata, NS.thredds, 'geospatialCoverage')
    );
    if (bbox !== undefined) {
      next.bbox = bbox;
    }
    const time = timeCoverage(child(metadata, NS.thredds, 'timeCoverage'));
    if (time.start !== undefined) {
      next.start = time.start;
    }
    if (time.end !== undefined) {
      next.end = time.end;
    }
  }
  return next;
}

function variablesOf(dataset: Element): RecordVariable[] {
  const out: RecordVariable[] = [];
  const blocks = [
    ...children(dataset, NS.thredds, 'variables'),
    ...metadataChildren(dataset, false).flatMap(m =>
      children(m, NS.thredds, 'variables')
    )
  ];
  for (const block of blocks) {
    for (const element of children(block, NS.thredds, 'variable')) {
      const name = attr(element, 'name');
      if (name === undefined || out.some(variable => variable.name === name)) {
        continue;
      }
      const variable: RecordVariable = { name };
      const longName = text(element);
      const units = attr(element, 'units');
      const vocabularyName = attr(element, 'vocabulary_name');
      if (longName !== undefined) {
        variable.long_name = longName;
      }
      if (units !== undefined) {
        variable.units = units;
      }
      // ESGF catalogues put either a CF standard name or a free label in
      // vocabulary_name; only the former has the standard names' form.
      if (
        vocabularyName !== undefined &&
        /^[a-z][a-z0-9_]*$/.test(vocabularyName)
      ) {
        variable.standard_name = vocabularyName;
      }
      out.push(variable);
    }
  }
  return out;
}

interface Context {
  catalogUrl: string;
  catalogId: string;
  services: Map<string, ThreddsService>;
  defaultService?: ThreddsService;
}

function accessFor(
  service: ThreddsService | undefined,
  urlPath: string,
  mediaType: string | undefined,
  context: Context
): RecordAccessUrl[] {
  if (service === undefined) {
    return [];
  }
  const out: RecordAccessUrl[] = [];
  for (const member of expandService(service)) {
    const url = joinServiceUrl(member.base, urlPath, context.catalogUrl);
    if (url === undefined) {
      continue;
    }
    const protocol = protocolOf(member.serviceType, url);
    const access: RecordAccessUrl = {
      url,
      protocol,
      service: member.serviceType,
      name: member.name,
      description: member.serviceType
    };
    if (protocol === 'http' && mediaType !== undefined) {
      access.media_type = mediaType;
    }
    out.push(access);
  }
  return out;
}

function readDataset(
  element: Element,
  parent: Inherited,
  context: Context,
  path: string[],
  parentId: string | undefined
): ThreddsDataset {
  const name = attr(element, 'name') ?? '';
  const inherited = inheritFrom(element, parent);
  const urlPath = attr(element, 'urlPath');
  const idAttr = attr(element, 'ID');
  const namePath = [...path, name];
  const record = emptyRecord(
    idAttr ?? `${context.catalogUrl}#${namePath.join('/')}`,
    name || (idAttr ?? ''),
    context.catalogId,
    'thredds'
  );

  if (parentId !== undefined) {
    record.parent_id = parentId;
  }

  const properties = new Map<string, string>();
  for (const property of children(element, NS.thredds, 'property')) {
    const key = attr(property, 'name');
    const value = attr(property, 'value');
    if (key !== undefined && value !== undefined) {
      if (!properties.has(key)) {
        properties.set(key, value);
      }
      if (!NOT_FACETS.has(key)) {
        addFacet(record.facets, key, value);
      }
    }
  }

  const format =
    ownOrMetadataText(element, 'dataFormat') ?? inherited.dataFormat;
  const mediaType =
    format === undefined ? undefined : FORMAT_MEDIA_TYPES[format.toLowerCase()];
  if (urlPath !== undefined) {
    const serviceName =
      attr(element, 'serviceName') ??
      ownOrMetadataText(element, 'serviceName') ??
      inherited.serviceName;
    const service =
      serviceName !== undefined
        ? context.services.get(serviceName)
        : context.defaultService;
    record.access.push(...accessFor(service, urlPath, mediaType, context));
  }
  for (const access of children(element, NS.thredds, 'access')) {
    const path = attr(access, 'urlPath');
    const serviceName = attr(access, 'serviceName');
    if (path !== undefined && serviceName !== undefined) {
      const accessFormat = attr(access, 'dataFormat');
      const accessMedia =
        accessFormat === undefined
          ? mediaType
          : FORMAT_MEDIA_TYPES[accessFormat.toLowerCase()];
      record.access.push(
        ...accessFor(
          context.services.get(serviceName),
          path,
          accessMedia,
          context
        )
      );
    }
  }

  const title = properties.get('title');
  if (title !== undefined) {
    record.description = title;
  }
  const documentation = childText(element, NS.thredds, 'documentation');
  if (documentation !== undefined && record.description === undefined) {
    record.description = documentation;
  }

  const dataSize = ownOrMetadata(element, 'dataSize');
  const exactSize = asNumber(properties.get('size'));
  const listedSize =
    dataSize === undefined ? undefined : asNumber(text(dataSize));
  const size =
    exactSize ??
    (listedSize === undefined || dataSize === undefined
      ? undefined
      : toBytes(listedSize, attr(dataSize, 'units')));
  if (size !== undefined) {
    record.size = size;
  }
  const checksum = makeChecksum(
    properties.get('checksum_type'),
    properties.get('checksum')
  );
  if (checksum !== undefined) {
    record.checksum = checksum;
  }

  for (const date of children(element, NS.thredds, 'date')) {
    const value = text(date);
    const type = (attr(date, 'type') ?? '').toLowerCase();
    if (value === undefined) {
      continue;
    }
    record.dates ??= {};
    if (type === 'modified' || type === 'metadatamodified') {
      record.dates.modified = value;
    } else if (type === 'created') {
      record.dates.created = value;
    } else if (type === 'issued') {
      record.dates.issued = value;
    }
  }
  const modTime = properties.get('mod_time');
  if (modTime !== undefined && record.dates?.modified === undefined) {
    record.dates = { ...(record.dates ?? {}), modified: modTime };
  }

  const ownBBox = coverageBBox(ownOrMetadata(element, 'geospatialCoverage'));
  const bbox = ownBBox ?? inherited.bbox;
  if (bbox !== undefined) {
    record.spatial = { bbox };
  }
  const ownTime = timeCoverage(ownOrMetadata(element, 'timeCoverage'));
  const end = ownTime.end === undefined ? inherited.end : ownTime.end;
  setDefined(record, 'temporal', {
    start: ownTime.start ?? inherited.start,
    end: end ?? undefined
  });
  record.variables = variablesOf(element);

  // ESGF's THREDDS catalogues: the dataset's ID is its instance id, dataset_id the
  // id without version (master id), dataset_version or file_version the version.
  const version =
    properties.get('dataset_version') ?? properties.get('file_version');
  if (version !== undefined) {
    record.version = version;
  }
  const datasetId = properties.get('dataset_id');
  if (datasetId !== undefined) {
    record.identifiers.master_id = datasetId;
    if (idAttr !== undefined) {
      record.identifiers.instance_id = idAttr;
    }
  }
  const trackingId = properties.get('tracking_id');
  if (trackingId !== undefined) {
    record.identifiers.tracking_ids = [trackingId];
  }
  const pid = normalisePid(properties.get('pid'));
  if (pid !== undefined) {
    record.identifiers.pid = pid;
  }
  const doi = normaliseDoi(properties.get('doi'));
  if (doi !== undefined) {
    record.identifiers.doi = doi;
  }

  const nodes: ThreddsNode[] = [];
  for (const node of Array.from(element.children)) {
    if (node.namespaceURI !== NS.thredds) {
      continue;
    }
    if (node.localName === 'dataset') {
      nodes.push(readDataset(node, inherited, context, namePath, idAttr));
    } else if (node.localName === 'catalogRef') {
      const ref = readCatalogRef(node, context);
      if (ref !== undefined) {
        nodes.push(ref);
      }
    }
  }
  const dataset: ThreddsDataset = {
    kind: 'dataset',
    name,
    record,
    children: nodes
  };
  if (urlPath !== undefined) {
    dataset.urlPath = urlPath;
  }
  return dataset;
}

function ownOrMetadataText(
  element: Element,
  local: string
): string | undefined {
  return text(ownOrMetadata(element, local));
}

function readCatalogRef(
  element: Element,
  context: Context
): ThreddsCatalogRef | undefined {
  const href = safeUrl(attr(element, 'href', NS.xlink), context.catalogUrl);
  if (href === undefined) {
    return undefined;
  }
  const ref: ThreddsCatalogRef = {
    kind: 'catalogRef',
    href,
    title: attr(element, 'title', NS.xlink) ?? attr(element, 'name') ?? href
  };
  const id = attr(element, 'ID');
  if (id !== undefined) {
    ref.id = id;
  }
  return ref;
}

/**
 * Read a THREDDS catalog.xml.
 *
 * @param catalogUrl The catalogue's URL: service bases and catalogRef hrefs are
 *   relative to it.
 * @throws CatalogParseError for malformed XML or a document that is not an
 *   InvCatalog 1.0 catalogue.
 */
export function parseThreddsCatalog(
  xml: string,
  catalogUrl: string,
  catalogId: string
): ThreddsCatalog {
  const source = `THREDDS catalogue ${catalogUrl}`;
  const root = parseXml(xml, source).documentElement;
  if (root.localName !== 'catalog' || root.namespaceURI !== NS.thredds) {
    throw new CatalogParseError(
      source,
      `not a THREDDS catalogue: the root element is ${describeElement(root)}, expected <catalog> in ${NS.thredds}`
    );
  }
  const services = parseServices(root);
  const index = new Map<string, ThreddsService>();
  indexServices(services, index);
  const context: Context = { catalogUrl, catalogId, services: index };
  if (services.length > 0) {
    // Datasets that name no service use the catalogue's first one, as TDS does.
    context.defaultService = services[0];
  }
  const top: ThreddsNode[] = [];
  for (const node of Array.from(root.children)) {
    if (node.namespaceURI !== NS.thredds) {
      continue;
    }
    if (node.localName === 'dataset') {
      top.push(readDataset(node, {}, context, [], undefined));
    } else if (node.localName === 'catalogRef') {
      const ref = readCatalogRef(node, context);
      if (ref !== undefined) {
        top.push(ref);
      }
    }
  }
  const catalog: ThreddsCatalog = { services, children: top };
  const name = attr(root, 'name');
  if (name !== undefined) {
    catalog.name = name;
  }
  const version = attr(root, 'version');
  if (version !== undefined) {
    catalog.version = version;
  }
  return catalog;
}

function walk(nodes: ThreddsNode[], visit: (node: ThreddsNode) => void): void {
  for (const node of nodes) {
    visit(node);
    if (node.kind === 'dataset') {
      walk(node.children, visit);
    }
  }
}

/** Every catalogue reference of a catalogue, at any depth, in document order. */
export function threddsCatalogRefs(
  catalog: ThreddsCatalog
): ThreddsCatalogRef[] {
  const out: ThreddsCatalogRef[] = [];
  walk(catalog.children, node => {
    if (node.kind === 'catalogRef') {
      out.push(node);
    }
  });
  return out;
}

/** Every dataset of a catalogue, at any depth, in document order. */
export function threddsDatasets(catalog: ThreddsCatalog): ThreddsDataset[] {
  const out: ThreddsDataset[] = [];
  walk(catalog.children, node => {
    if (node.kind === 'dataset') {
      out.push(node);
    }
  });
  return out;
}
