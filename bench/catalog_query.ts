/**
 * Our side of bench/bench_catalog.py: the catalogue panel's code, run under Node (V8)
 * with `vite-node`, against a real Jupyter server.
 *
 * Reads its settings from the environment variable ESPRI_CATALOG_BENCH (JSON:
 * baseUrl, token, catalogId, loads, queries, query, facets) and prints one line
 * `BENCH_JSON {...}` with the timings in milliseconds:
 *
 * - a load is what the panel does: `loadIntakeCatalog` (browser/load.ts: GET
 *   catalogs/{id}/esm and GET catalogs/{id}/table?part=search together, the table
 *   read as a stream and decoded), then every facet column's codes taken (the table
 *   is then ready for the facet lists and the search: `readyMs`); then the rest of
 *   the table (GET ...?part=assets, the paths, asked for once the collection has
 *   answered) arrives and is joined (`completeMs`).
 *   The first load is the server's first read of the catalogue (a fresh server); the
 *   others are warm (the server has the table in memory, the bytes are sent again);
 * - a query is `facetedSearch` with counts for every facet, the first run
 *   separately (it scans the queried columns; their postings are built on the
 *   second).
 */
import { ServerConnection } from '@jupyterlab/services';
import {
  loadIntakeCatalog,
  type LoadProgress
} from '../extensions/catalog/src/browser/load';
import {
  countValues,
  facetedSearch,
  search,
  type IntakeQuery
} from '../extensions/catalog/src/intake/search';
import {
  cellValue,
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
  /** Until the table can be searched (the facets listed): the load as the target says. */
  totalMs: number;
  /** Until the first bytes of the search part (the server reads the table meanwhile). */
  serverMs: number;
  transferMs: number;
  decodeMs: number;
  encodeMs: number;
  /** Until the paths have arrived too (the whole table, as intake-esm's `.df`). */
  completeMs: number;
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
const server = ServerConnection.makeSettings({
  baseUrl: settings.baseUrl,
  token: settings.token,
  appendToken: false
});

async function load(config: Settings): Promise<Load> {
  const start = performance.now();
  let firstBytes = 0;
  let received = 0;
  let bytes = 0;
  const loaded = await loadIntakeCatalog(
    config.catalogId,
    server,
    undefined,
    (progress: LoadProgress) => {
      if (progress.step === 'table' && firstBytes === 0) {
        firstBytes = performance.now();
      } else if (progress.step === 'decode') {
        received = performance.now();
        bytes = progress.received;
      }
    }
  );
  const decoded = performance.now();
  const { table } = loaded;
  for (const attribute of loaded.collection.attributes) {
    const column = table.column(attribute.column_name);
    if (column !== undefined && column.indices.length !== table.numRows) {
      throw new Error(`column ${column.name} has the wrong length`);
    }
  }
  const ready = performance.now();
  const whole = await loaded.complete;
  const path = whole.column(loaded.collection.assets.column_name);
  if (
    path === undefined ||
    typeof cellValue(path, whole.numRows - 1) !== 'string'
  ) {
    throw new Error('the paths did not arrive');
  }
  const end = performance.now();
  return {
    table: whole,
    totalMs: ready - start,
    serverMs: firstBytes - start,
    transferMs: received - firstBytes,
    decodeMs: decoded - received,
    encodeMs: ready - decoded,
    completeMs: end - start,
    bytes
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
  const { table: _table, bytes: _bytes, ...timings } = load;
  return timings;
}

async function main(config: Settings): Promise<void> {
  const first = await load(config);
  // The first query runs on the first table loaded, which no search has touched: it
  // scans the queried columns, the second builds their postings. The queries run
  // before the warm loads, as a user searches the catalogue just loaded (and not
  // while the collector frees the tables that reloading it three times would leave).
  const { table } = first;
  const firstStart = performance.now();
  let result = facetedSearch(table, config.query, { facets: config.facets });
  const firstQueryMs = performance.now() - firstStart;
  // The faceted search and the plain one (what intake-esm's search + unique()
  // computes, without the multi-select counts) in turns, so that a pause of the
  // machine or of the garbage collector (the warm loads left tables behind) does not
  // fall on one of them only.
  const queryMs: number[] = [];
  const plainMs: number[] = [];
  for (let run = 0; run < config.queries; run++) {
    let start = performance.now();
    result = facetedSearch(table, config.query, { facets: config.facets });
    queryMs.push(performance.now() - start);
    start = performance.now();
    countValues(table, search(table, config.query), config.facets);
    plainMs.push(performance.now() - start);
  }

  const warm: ReturnType<typeof summary>[] = [];
  for (let run = 0; run < config.loads; run++) {
    warm.push(summary(await load(config)));
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
      warmCompleteMedianMs: median(warm.map(load => load.completeMs)),
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
