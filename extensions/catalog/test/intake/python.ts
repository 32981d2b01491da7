/**
 * The Python side of the intake-esm tests, run in the repository's virtual
 * environment: pyarrow writes catalogue tables as Arrow IPC streams the way the
 * server does, and intake-esm itself answers the same queries as the browser.
 *
 * The real catalogues live in `<repo>/../shared/data/intake-esm-catalogs`; tests that
 * need them skip when `../shared` is absent.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export const REPO = path.resolve(here, '../../../..');
export const PYTHON = path.join(REPO, '.venv/bin/python');
export const SHARED_DATA = path.resolve(REPO, '../shared/data');
export const CATALOGS = path.join(SHARED_DATA, 'intake-esm-catalogs');
export const CMIP6_FILES = path.join(SHARED_DATA, 'cmip6-sample');
export const HAVE_SHARED = existsSync(CATALOGS);

if (!HAVE_SHARED) {
  console.warn(
    `../shared is absent (no ${CATALOGS}): the intake-esm tests on real catalogues are skipped`
  );
}

/** A describe title that says why it may be skipped. */
export function withShared(title: string): string {
  return HAVE_SHARED ? title : `${title} (skipped: ../shared is absent)`;
}

/**
 * Run `script` with the venv's Python, `input` as JSON on stdin; stdout as bytes.
 *
 * @throws Error with Python's stderr when the script fails, and a hint when
 *   intake-esm is not installed.
 */
export function runPython(script: string, input: unknown = null): Buffer {
  try {
    return execFileSync(PYTHON, ['-c', script], {
      input: JSON.stringify(input),
      maxBuffer: 1 << 30,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONWARNINGS: 'ignore' }
    });
  } catch (error) {
    const failure = error as { stderr?: Buffer; message?: string };
    const stderr = String(failure.stderr ?? '');
    const hint = stderr.includes("No module named 'intake")
      ? ` (install it: ${PYTHON} -m pip install intake-esm)`
      : '';
    throw new Error(
      `${PYTHON} failed${hint}:\n${stderr || failure.message || String(error)}`
    );
  }
}

/**
 * The server's reading of a catalogue table: every CSV column as text, only empty
 * fields missing (as intake-esm reads CSVs with polars' `infer_schema=False`), text
 * columns dictionary-encoded, iterable columns as lists of dictionary-encoded text,
 * one Arrow IPC stream.
 */
const ARROW_STREAM = String.raw`
import ast, csv, json, sys
import pyarrow as pa, pyarrow.csv as pcsv

args = json.loads(sys.stdin.read())
with open(args['csv'], newline='') as f:
    header = next(csv.reader(f))
table = pcsv.read_csv(
    args['csv'],
    convert_options=pcsv.ConvertOptions(
        column_types={name: pa.string() for name in header},
        null_values=[''],
        strings_can_be_null=True,
    ),
)
iterables = set(args.get('iterables', []))
columns = []
for name in table.column_names:
    column = table[name].combine_chunks()
    if name in iterables:
        lists = pa.array(
            [None if v is None else list(ast.literal_eval(v)) for v in column.to_pylist()],
            type=pa.list_(pa.string()),
        )
        columns.append(
            pa.ListArray.from_arrays(
                lists.offsets, lists.flatten().dictionary_encode(), mask=lists.is_null()
            )
        )
    else:
        columns.append(column.dictionary_encode())
out = pa.table(columns, names=table.column_names)
with pa.ipc.new_stream(sys.stdout.buffer, out.schema) as writer:
    writer.write_table(out)
`;

/** The Arrow IPC stream of a CSV catalogue table, as the server sends it. */
export function arrowStreamOfCsv(
  csvPath: string,
  iterables: readonly string[] = []
): Uint8Array {
  return new Uint8Array(runPython(ARROW_STREAM, { csv: csvPath, iterables }));
}

/** One query, as `esm_datastore.search(require_all_on=..., **query)` takes it. */
export interface OracleQuery {
  query: Record<string, unknown>;
  require_all_on?: string | string[];
}

/** What intake-esm answered to one query. */
export interface OracleAnswer {
  error?: string;
  /** The asset column of `.search(...).df`, in order. */
  assets?: string[];
  unique?: Record<string, unknown[]>;
  nunique?: Record<string, number>;
  keys?: string[];
  keysError?: string;
}

/**
 * intake-esm's answers. A catalogue is opened from its JSON (`json`) as a user would;
 * one with iterable columns is opened from its collection and a pandas table read with
 * `ast.literal_eval` converters (intake-esm's pandas reader), because intake-esm
 * 2025.12 with pandas 3 cannot search the list columns its polars reader makes. An
 * empty query stands for the catalogue itself, not `search()`, as in the code the
 * panel generates.
 */
const ORACLE = String.raw`
import ast, json, sys, warnings
warnings.simplefilter('ignore')
import intake
import pandas as pd

def plain(value):
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    return str(value)

def open_catalogue(args):
    iterables = args.get('iterables') or []
    if not iterables:
        return intake.open_esm_datastore(args['json'])
    with open(args['json']) as f:
        esmcat = json.load(f)
    df = pd.read_csv(
        args['csv'],
        dtype=str,
        keep_default_na=False,
        na_values=[''],
        converters={name: ast.literal_eval for name in iterables},
    )
    esmcat.pop('catalog_file', None)
    return intake.open_esm_datastore(
        {'esmcat': esmcat, 'df': df}, columns_with_iterables=iterables
    )

def answer(cat, item):
    asset = cat.esmcat.assets.column_name
    try:
        if item['query']:
            sub = cat.search(require_all_on=item.get('require_all_on'), **item['query'])
        else:
            sub = cat
        out = {'assets': [str(v) for v in sub.df[asset].tolist()]}
        unique = sub.unique().to_dict()
        nunique = sub.nunique().to_dict()
        out['unique'] = {k: plain(list(v)) for k, v in unique.items() if not k.startswith('derived_')}
        out['nunique'] = {k: int(v) for k, v in nunique.items() if not k.startswith('derived_')}
    except Exception as error:
        return {'error': f'{type(error).__name__}: {error}'}
    try:
        out['keys'] = list(sub.keys())
    except Exception as error:
        out['keysError'] = f'{type(error).__name__}: {error}'
    return out

answers = []
for catalogue in json.loads(sys.stdin.read()):
    cat = open_catalogue(catalogue)
    answers.append([answer(cat, item) for item in catalogue['queries']])
json.dump(answers, sys.stdout)
`;

/** A catalogue for intake-esm to open, and the queries to answer on it. */
export interface OracleCatalogue {
  json: string;
  csv: string;
  iterables?: readonly string[];
  queries: readonly OracleQuery[];
}

/** intake-esm's answers, per catalogue and query, in one Python run. */
export function askIntakeEsm(
  catalogues: readonly OracleCatalogue[]
): OracleAnswer[][] {
  return JSON.parse(
    runPython(ORACLE, catalogues).toString('utf-8')
  ) as OracleAnswer[][];
}
