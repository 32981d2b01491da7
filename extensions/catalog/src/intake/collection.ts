/**
 * The ESM collection JSON of an intake-esm catalogue (`GET
 * /espri-vre/api/catalogs/{id}/esm`), checked as intake-esm's pydantic model
 * (`intake_esm/cat.py`, `ESMCatalogModel`) checks it, so that a descriptor intake-esm
 * would refuse is refused here with the same reason.
 */
import {
  CatalogParseError,
  isJsonObject,
  parseJsonObject,
  type JsonObject
} from '../record';

/** intake-esm's `DataFormat`. */
export const DATA_FORMATS = [
  'netcdf',
  'zarr',
  'zarr2',
  'zarr3',
  'reference',
  'opendap'
] as const;
export type DataFormat = (typeof DATA_FORMATS)[number];

/** intake-esm's `AggregationType`. */
export const AGGREGATION_TYPES = [
  'join_new',
  'join_existing',
  'union'
] as const;
export type AggregationType = (typeof AGGREGATION_TYPES)[number];

export interface EsmAttribute {
  column_name: string;
  vocabulary: string;
}

/** Where the assets are: a column of paths or URLs, and their one format or a column of formats. */
export interface EsmAssets {
  column_name: string;
  format?: DataFormat;
  format_column_name?: string;
}

export interface EsmAggregation {
  type: AggregationType;
  attribute_name: string;
  options: JsonObject;
}

export interface EsmAggregationControl {
  variable_column_name: string;
  groupby_attrs: string[];
  aggregations: EsmAggregation[];
}

export interface EsmCollection {
  esmcat_version: string;
  id: string;
  title?: string;
  description?: string;
  catalog_file?: string;
  /** Present when the table is held in the JSON itself rather than in a file. */
  catalog_dict?: JsonObject[];
  attributes: EsmAttribute[];
  assets: EsmAssets;
  aggregation_control?: EsmAggregationControl;
  last_updated?: string;
}

function fail(source: string, problem: string): never {
  throw new CatalogParseError(source, problem);
}

function requireString(
  object: JsonObject,
  key: string,
  where: string,
  source: string
): string {
  const value = object[key];
  if (typeof value !== 'string') {
    fail(
      source,
      value === undefined
        ? `${where}${key} is missing`
        : `${where}${key} must be a string`
    );
  }
  return value;
}

function optionalString(
  object: JsonObject,
  key: string,
  where: string,
  source: string
): string | undefined {
  const value = object[key];
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== 'string') {
    fail(source, `${where}${key} must be a string`);
  }
  return value;
}

function parseAttributes(value: unknown, source: string): EsmAttribute[] {
  if (!Array.isArray(value)) {
    fail(
      source,
      value === undefined
        ? 'attributes is missing'
        : 'attributes must be a list'
    );
  }
  return value.map((item, at) => {
    if (!isJsonObject(item)) {
      fail(source, `attributes[${at}] must be an object`);
    }
    return {
      column_name: requireString(
        item,
        'column_name',
        `attributes[${at}].`,
        source
      ),
      vocabulary:
        optionalString(item, 'vocabulary', `attributes[${at}].`, source) ?? ''
    };
  });
}

function parseAssets(value: unknown, source: string): EsmAssets {
  if (!isJsonObject(value)) {
    fail(
      source,
      value === undefined ? 'assets is missing' : 'assets must be an object'
    );
  }
  const assets: EsmAssets = {
    column_name: requireString(value, 'column_name', 'assets.', source)
  };
  const format = optionalString(value, 'format', 'assets.', source);
  const formatColumn = optionalString(
    value,
    'format_column_name',
    'assets.',
    source
  );
  if (format !== undefined && formatColumn !== undefined) {
    fail(source, 'assets cannot set both format and format_column_name');
  }
  if (format === undefined && formatColumn === undefined) {
    fail(source, 'assets must set one of format or format_column_name');
  }
  if (format !== undefined) {
    if (!(DATA_FORMATS as readonly string[]).includes(format)) {
      fail(
        source,
        `assets.format "${format}" is not one of ${DATA_FORMATS.join(', ')}`
      );
    }
    assets.format = format as DataFormat;
  }
  if (formatColumn !== undefined) {
    assets.format_column_name = formatColumn;
  }
  return assets;
}

function parseAggregationControl(
  value: unknown,
  source: string
): EsmAggregationControl | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  if (!isJsonObject(value)) {
    fail(source, 'aggregation_control must be an object');
  }
  const where = 'aggregation_control.';
  const groupby = value.groupby_attrs;
  if (
    !Array.isArray(groupby) ||
    groupby.some(item => typeof item !== 'string')
  ) {
    fail(source, `${where}groupby_attrs must be a list of column names`);
  }
  const aggregations = value.aggregations ?? [];
  if (!Array.isArray(aggregations)) {
    fail(source, `${where}aggregations must be a list`);
  }
  return {
    variable_column_name: requireString(
      value,
      'variable_column_name',
      where,
      source
    ),
    groupby_attrs: groupby as string[],
    aggregations: aggregations.map((item: unknown, at: number) => {
      const here = `${where}aggregations[${at}].`;
      if (!isJsonObject(item)) {
        fail(source, `${where}aggregations[${at}] must be an object`);
      }
      const type = requireString(item, 'type', here, source);
      if (!(AGGREGATION_TYPES as readonly string[]).includes(type)) {
        fail(
          source,
          `${here}type "${type}" is not one of ${AGGREGATION_TYPES.join(', ')}`
        );
      }
      const options = item.options ?? {};
      if (!isJsonObject(options)) {
        fail(source, `${here}options must be an object`);
      }
      return {
        type: type as AggregationType,
        attribute_name: requireString(item, 'attribute_name', here, source),
        options
      };
    })
  };
}

/**
 * The ESM collection of a response body (text or parsed JSON).
 *
 * @throws CatalogParseError naming what is wrong: malformed JSON, a missing or
 *   mistyped field, an unknown format or aggregation type, both or neither of
 *   `format` and `format_column_name`, both `catalog_file` and `catalog_dict`.
 */
export function parseEsmCollection(
  body: unknown,
  source = 'the ESM collection JSON'
): EsmCollection {
  const json = parseJsonObject(body, source);
  const collection: EsmCollection = {
    esmcat_version: requireString(json, 'esmcat_version', '', source),
    id: optionalString(json, 'id', '', source) ?? '',
    attributes: parseAttributes(json.attributes, source),
    assets: parseAssets(json.assets, source)
  };
  const title = optionalString(json, 'title', '', source);
  if (title !== undefined) {
    collection.title = title;
  }
  const description = optionalString(json, 'description', '', source);
  if (description !== undefined) {
    collection.description = description;
  }
  const catalogFile = optionalString(json, 'catalog_file', '', source);
  const catalogDict = json.catalog_dict;
  if (catalogFile !== undefined && catalogDict != null) {
    fail(
      source,
      'catalog_dict and catalog_file cannot be set at the same time'
    );
  }
  if (catalogFile !== undefined) {
    collection.catalog_file = catalogFile;
  }
  if (catalogDict != null) {
    if (!Array.isArray(catalogDict) || !catalogDict.every(isJsonObject)) {
      fail(source, 'catalog_dict must be a list of objects');
    }
    collection.catalog_dict = catalogDict;
  }
  const control = parseAggregationControl(json.aggregation_control, source);
  if (control !== undefined) {
    collection.aggregation_control = control;
  }
  const updated = json.last_updated;
  if (typeof updated === 'string') {
    collection.last_updated = updated;
  }
  return collection;
}
