/**
 * Our side of bench/bench_catalog.py: the catalogue panel's code, run under Node (V8)
 * with `vite-node`, against a real Jupyter server.
 *
 * Reads its settings from the environment variable ESPRI_CATALOG_BENCH (JSON:
 * baseUrl, token, catalogId, loads, queries, query, facets) and prints one line
 * `BENCH_JSON {...}` with the timings in milliseconds:
 *
 * - a load is what the panel does (browser/load.ts): GET catalogs/{id}/esm, parse
 *   it, GET catalogs/{id}/table read as a stream, `readIntakeTable`, then every
 *   facet column encoded (the table is then ready for the facet lists). The first
 *   load is the server's first read of the catalogue (a fresh server); the others
 *   are warm (the server has the table in memory, the bytes are sent again);
 * - a query is `facetedSearch` with counts for every facet, the first run
 *   separately (it also computes the whole-table counts the search caches).
 */
import { parseEsmCollection } from '../extensions/catalog/src/intake/collection';
import {
  countValues,
  facetedSearch,
  search,
  type IntakeQuery
} from '../extensions/catalog/src/intake/search';
import {
  readIntakeTable,
  type IntakeTable
} from '../extensions/catalog/src/intake/table';

interface Settings {
  baseUrl: string;
  token: string;
  catalogId: string;
  loads: number;
  queries: number;
  query: IntakeQuery;
  facets: string[];
}

interface Load {
  table: IntakeTable;
  totalMs: number;
  esmMs: number;
  transferMs: number;
  decodeMs: number;
  encodeMs: number;
  bytes: number;
}

const settings = JSON.parse(
  process.env.ESPRI_CATALOG_BENCH ?? 'null'
) as Settings | null;
if (settings === null) {
  throw new Error(
    'ESPRI_CATALOG_BENCH is not set (see bench/bench_catalog.py).'
  );
}
const headers = { Authorization: `token ${settings.token}` };
const api = `${settings.baseUrl.replace(/\/*$/, '')}/espri-vre/api/catalogs/${encodeURIComponent(settings.catalogId)}`;

async function get(url: string): Promise<Response> {
  const response = await fetch(url, { headers });
  if (!response.ok) {
    throw new Error(`${url}: HTTP ${response.status} ${await response.text()}`);
  }
  return response;
}

async function readBytes(response: Response): Promise<Uint8Array> {
  if (!response.body) {
    return new Uint8Array(await response.arrayBuffer());
  }
  const reader = response.body.getReader();
  const parts: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    parts.push(value);
    received += value.byteLength;
  }
  const out = new Uint8Array(received);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

async function load(): Promise<Load> {
  const start = performance.now();
  const collection = parseEsmCollection(await (await get(`${api}/esm`)).json());
  const esmDone = performance.now();
  const bytes = await readBytes(await get(`${api}/table`));
  const transferDone = performance.now();
  const table = readIntakeTable(bytes);
  const decodeDone = performance.now();
  for (const attribute of collection.attributes) {
    const column = table.column(attribute.column_name);
    if (column !== undefined && column.indices.length !== table.numRows) {
      throw new Error(`column ${column.name} has the wrong length`);
    }
  }
  const end = performance.now();
  return {
    table,
    totalMs: end - start,
    esmMs: esmDone - start,
    transferMs: transferDone - esmDone,
    decodeMs: decodeDone - transferDone,
    encodeMs: end - decodeDone,
    bytes: bytes.byteLength
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? sorted[middle]
    : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** A load's timings, without its table (so that the table can be collected). */
function summary(load: Load) {
  return {
    totalMs: load.totalMs,
    esmMs: load.esmMs,
    transferMs: load.transferMs,
    decodeMs: load.decodeMs,
    encodeMs: load.encodeMs
  };
}

async function main(config: Settings): Promise<void> {
  const first = await load();
  const warm: ReturnType<typeof summary>[] = [];
  for (let run = 0; run < config.loads; run++) {
    warm.push(summary(await load()));
  }
  // The first query runs on the first table loaded, which no search has touched: it
  // also computes the whole-table counts that later searches reuse.
  const { table } = first;
  const firstStart = performance.now();
  let result = facetedSearch(table, config.query, { facets: config.facets });
  const firstQueryMs = performance.now() - firstStart;
  const queryMs: number[] = [];
  for (let run = 0; run < config.queries; run++) {
    const start = performance.now();
    result = facetedSearch(table, config.query, { facets: config.facets });
    queryMs.push(performance.now() - start);
  }
  // What intake-esm's search + unique() computes, without the multi-select counts.
  const plainMs: number[] = [];
  for (let run = 0; run < config.queries; run++) {
    const start = performance.now();
    countValues(table, search(table, config.query), config.facets);
    plainMs.push(performance.now() - start);
  }

  const unique: Record<string, string[]> = {};
  for (const [name, counts] of Object.entries(result.counts)) {
    unique[name] = counts.map(({ value }) => String(value)).sort();
  }
  process.stdout.write(
    `BENCH_JSON ${JSON.stringify({
      node: process.version,
      rows: table.numRows,
      bytes: first.bytes,
      firstLoad: summary(first),
      warmLoads: warm,
      warmLoadMedianMs: median(warm.map(load => load.totalMs)),
      firstQueryMs,
      queryMs,
      queryMedianMs: median(queryMs),
      plainQueryMedianMs: median(plainMs),
      matches: result.rows.length,
      unique
    })}\n`
  );
}

await main(settings);
