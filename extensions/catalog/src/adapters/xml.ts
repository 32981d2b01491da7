/**
 * Namespace-aware XML helpers shared by the THREDDS, CSW and ESGF (Solr XML) adapters.
 *
 * Parsing uses the browser's DOMParser with `application/xml`: the document is never
 * rendered, scripts never run, and external entities are not fetched. Text is read
 * with `textContent`, so what the adapters return is plain text.
 */
import { CatalogParseError, excerpt } from '../record';

export const NS = {
  thredds: 'http://www.unidata.ucar.edu/namespaces/thredds/InvCatalog/v1.0',
  xlink: 'http://www.w3.org/1999/xlink',
  csw: 'http://www.opengis.net/cat/csw/2.0.2',
  dc: 'http://purl.org/dc/elements/1.1/',
  dct: 'http://purl.org/dc/terms/',
  ows: 'http://www.opengis.net/ows',
  ogc: 'http://www.opengis.net/ogc',
  gml: 'http://www.opengis.net/gml',
  gml32: 'http://www.opengis.net/gml/3.2',
  gmd: 'http://www.isotc211.org/2005/gmd',
  gco: 'http://www.isotc211.org/2005/gco',
  gmx: 'http://www.isotc211.org/2005/gmx',
  srv: 'http://www.isotc211.org/2005/srv',
  apiso: 'http://www.opengis.net/cat/csw/apiso/1.0'
} as const;

/**
 * Parse `text` as XML.
 *
 * @throws CatalogParseError when the text is empty, not well-formed XML (the parser's
 *   own message is passed on), or looks like an HTML page.
 */
export function parseXml(text: string, source: string): Document {
  const trimmed = text.trim();
  if (trimmed === '') {
    throw new CatalogParseError(source, 'the response is empty');
  }
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    throw new CatalogParseError(
      source,
      `expected XML but got JSON ("${excerpt(trimmed, 60)}")`
    );
  }
  const doc = new DOMParser().parseFromString(trimmed, 'application/xml');
  const errors = doc.getElementsByTagName('parsererror');
  if (errors.length > 0) {
    const detail = excerpt(errors[0].textContent ?? '', 200);
    throw new CatalogParseError(
      source,
      `malformed XML${detail ? ` (${detail})` : ''}`
    );
  }
  const root = doc.documentElement;
  if (root.localName.toLowerCase() === 'html') {
    throw new CatalogParseError(source, 'expected XML but got an HTML page');
  }
  return doc;
}

/** `<prefix:local>` as written, for error messages. */
export function describeElement(element: Element): string {
  return `<${element.tagName}>${element.namespaceURI ? ` in namespace ${element.namespaceURI}` : ' (no namespace)'}`;
}

/** Direct children of `parent` named `local` in namespace `ns`. */
export function children(
  parent: Element,
  ns: string,
  local: string
): Element[] {
  const out: Element[] = [];
  for (const node of Array.from(parent.children)) {
    if (node.localName === local && node.namespaceURI === ns) {
      out.push(node);
    }
  }
  return out;
}

/** The first direct child of `parent` named `local` in namespace `ns`. */
export function child(
  parent: Element,
  ns: string,
  local: string
): Element | undefined {
  return children(parent, ns, local)[0];
}

/**
 * Follow a path of direct children, each step `[ns, local]`; all elements reached at
 * the end of the path.
 */
export function path(
  parent: Element,
  steps: ReadonlyArray<readonly [string, string]>
): Element[] {
  let current: Element[] = [parent];
  for (const [ns, local] of steps) {
    current = current.flatMap(element => children(element, ns, local));
  }
  return current;
}

/** All descendants of `parent` named `local` in namespace `ns`, in document order. */
export function descendants(
  parent: Element | Document,
  ns: string,
  local: string
): Element[] {
  return Array.from(parent.getElementsByTagNameNS(ns, local));
}

/** The trimmed text of an element, or undefined when it is absent or blank. */
export function text(element: Element | undefined): string | undefined {
  if (element === undefined) {
    return undefined;
  }
  const value = (element.textContent ?? '').trim();
  return value === '' ? undefined : value;
}

/** The text of the first direct child `local` of `parent`. */
export function childText(
  parent: Element,
  ns: string,
  local: string
): string | undefined {
  return text(child(parent, ns, local));
}

/** A namespaced or plain attribute, trimmed, or undefined when absent or blank. */
export function attr(
  element: Element,
  name: string,
  ns?: string
): string | undefined {
  const value =
    ns === undefined
      ? element.getAttribute(name)
      : element.getAttributeNS(ns, name);
  if (value === null) {
    return undefined;
  }
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** Escape text for an XML element or attribute value. */
export function escapeXml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
