import {
  requestAPI,
  type CrateSummary,
  type ExportResponse,
  type ProvenanceRun,
  type ProvenanceRunsResponse,
  type ReplayJob,
  type ReplayReport
} from '@espri-vre/core';
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import type {
  CellEndEvent,
  CellStartEvent,
  DatasetEvent,
  FileEvent,
  JobEvent,
  ProvenanceEvent,
  SessionEvent
} from './events.generated';

/**
 * What `GET provenance/events` answers: every event of one log, and what the hash-chain
 * check found.
 */
export interface IRunEvents {
  run: string;
  log: string;
  events: ProvenanceEvent[];
  truncated: boolean;
  verification: {
    ok: boolean;
    ended: boolean;
    events: number;
    last_hash: string | null;
    torn_bytes: number;
    problems: string[];
  };
}

/**
 * The provenance routes of the espri-vre server.
 */
export class ProvenanceService {
  constructor(
    settings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {
    this._settings = settings;
  }

  /**
   * The runs of a notebook; with `kernelId`, also its kernel's runs recorded under another
   * name (a notebook renamed after its kernel started records beside its old name).
   */
  runs(
    notebook: string,
    kernelId?: string | null,
    signal?: AbortSignal
  ): Promise<ProvenanceRunsResponse> {
    const query: Record<string, string> = { path: notebook };
    if (kernelId) {
      query.kernel = kernelId;
    }
    return this._get('runs', query, signal);
  }

  events(
    notebook: string,
    run: string,
    lastHash?: string | null,
    signal?: AbortSignal
  ): Promise<IRunEvents> {
    const query: Record<string, string> = { path: notebook, run };
    if (lastHash) {
      query.last_hash = lastHash;
    }
    return this._get('events', query, signal);
  }

  exportCrate(notebook: string, run?: string): Promise<ExportResponse> {
    return this._post(
      'export',
      run ? { path: notebook, run } : { path: notebook }
    );
  }

  crate(path: string, signal?: AbortSignal): Promise<CrateSummary> {
    return this._get('crate', { path }, signal);
  }

  /**
   * Validates the crate at `path` with roc-validator on the server (`POST provenance/crate`),
   * against the genuine RO-Crate contexts the server serves itself.
   */
  validateCrate(path: string, signal?: AbortSignal): Promise<ICrateValidation> {
    return requestAPI<ICrateValidation>(
      `provenance/crate${URLExt.objectToQueryString({ path })}`,
      { method: 'POST', signal },
      this._settings
    );
  }

  replay(path: string, run?: string): Promise<ReplayJob> {
    return this._post('replay', run ? { path, run } : { path });
  }

  replayJob(id: string, signal?: AbortSignal): Promise<ReplayJob> {
    return requestAPI<ReplayJob>(
      `provenance/replay/${encodeURIComponent(id)}`,
      { signal },
      this._settings
    );
  }

  report(path: string, signal?: AbortSignal): Promise<ReplayReport> {
    return this._get('report', { path }, signal);
  }

  private _get<T>(
    route: string,
    query: Record<string, string>,
    signal?: AbortSignal
  ): Promise<T> {
    return requestAPI<T>(
      `provenance/${route}${URLExt.objectToQueryString(query)}`,
      { signal },
      this._settings
    );
  }

  private _post<T>(route: string, body: Record<string, string>): Promise<T> {
    return requestAPI<T>(
      `provenance/${route}`,
      { method: 'POST', body: JSON.stringify(body) },
      this._settings
    );
  }

  private _settings: ServerConnection.ISettings;
}

/**
 * What `POST provenance/crate` answers: roc-validator's verdict on a crate for the profile,
 * at the REQUIRED level (with its issues), and the checks failed at the RECOMMENDED level.
 */
export interface ICrateValidation {
  path: string;
  profile: string;
  passed: boolean;
  required: { check: string; message: string }[];
  required_count: number;
  recommended: string[];
  recommended_count: number;
  /** The addresses of the genuine contexts the validator was served. */
  contexts: string[];
}

/**
 * The state the notebook toolbar shows: the run of this notebook's kernel, if it records.
 */
export type RecordingState = 'recording' | 'paused' | 'off' | 'unknown';

/**
 * The run recorded by the kernel `kernelId` (the newest one, as a kernel that ran
 * `%provenance off` then `on` has two), and the state to show.
 */
export function kernelRun(
  runs: ProvenanceRun[],
  kernelId: string | null | undefined
): { state: RecordingState; run: ProvenanceRun | null } {
  const mine = kernelId
    ? runs
        .filter(r => r.kernel_id === kernelId)
        .sort((a, b) => (a.run < b.run ? 1 : -1))
    : [];
  const run = mine[0] ?? null;
  if (!run) {
    return { state: 'off', run: null };
  }
  return { state: run.state === 'ended' ? 'off' : run.state, run };
}

/**
 * What the notebook's metadata keeps of its provenance (never copies of outputs).
 */
export interface IProvenanceMetadata {
  run: string;
  last_hash: string | null;
}

/**
 * The metadata to write for `run`, or null when what is kept already says the same.
 */
export function metadataUpdate(
  kept: Partial<IProvenanceMetadata> | undefined,
  run: Pick<ProvenanceRun, 'run' | 'last_hash'> | null
): IProvenanceMetadata | null {
  if (!run) {
    return null;
  }
  if (kept && kept.run === run.run && kept.last_hash === run.last_hash) {
    return null;
  }
  return { run: run.run, last_hash: run.last_hash };
}

/**
 * The cell metadata key the replay reads a cell's declaration from (replay.py `declared`):
 * `"espri-vre": {"replay": "varies" | "rtol=…, atol=…", "reason": "…"}`.
 */
export const DECLARATION_KEY = 'espri-vre';

/**
 * What a cell model offers for its metadata (ICellModel's methods of that name).
 */
export interface IMetadataHolder {
  getMetadata(key: string): unknown;
  setMetadata(key: string, value: unknown): void;
  deleteMetadata(key: string): unknown;
}

/**
 * What a cell declares of its replay, as the report words it: "varies: <reason>", "varies",
 * or its tolerances; null when it declares nothing.
 */
export function declaredVariation(cell: IMetadataHolder): string | null {
  const meta = cell.getMetadata(DECLARATION_KEY) as
    { replay?: unknown; reason?: unknown } | undefined;
  if (!meta || typeof meta.replay !== 'string' || !meta.replay) {
    return null;
  }
  const reason =
    typeof meta.reason === 'string' && meta.reason ? `: ${meta.reason}` : '';
  return `${meta.replay}${reason}`;
}

/**
 * Declares that a cell varies on replay (an unseeded draw, the current time), with its
 * reason; `null` removes the declaration. Other keys of the cell's `espri-vre` metadata
 * are kept.
 */
export function declareVaries(
  cell: IMetadataHolder,
  reason: string | null
): void {
  const {
    replay: _replay,
    reason: _reason,
    ...others
  } = (cell.getMetadata(DECLARATION_KEY) as Record<string, unknown>) ?? {};
  if (reason === null) {
    if (Object.keys(others).length > 0) {
      cell.setMetadata(DECLARATION_KEY, others);
    } else {
      cell.deleteMetadata(DECLARATION_KEY);
    }
    return;
  }
  const why = reason.trim();
  cell.setMetadata(DECLARATION_KEY, {
    ...others,
    replay: 'varies',
    ...(why ? { reason: why } : {})
  });
}

/**
 * The tolerances a cell may declare, as replay.py `declared` reads them ("rtol=1e-3, atol=0").
 */
const TOLERANCE = /^\s*(atol|rtol|image_ssim)\s*=\s*([-+0-9.eE]+)\s*$/;

/**
 * Why a tolerance declaration was refused: a part that is not `name=number` (name atol, rtol
 * or image_ssim, the number finite and ≥ 0), or a name given twice.
 */
export type ToleranceProblem =
  { kind: 'unreadable'; part: string } | { kind: 'twice'; name: string };

/**
 * Declares the tolerances a cell's outputs are compared with on replay (`rtol`, `atol`,
 * `image_ssim`), with the reason; the text is checked as the replay reads it, and nothing is
 * written when it cannot be read: the problem is returned instead (null once declared).
 */
export function declareTolerance(
  cell: IMetadataHolder,
  text: string,
  reason: string
): ToleranceProblem | null {
  const settings = new Map<string, number>();
  for (const part of text.split(',')) {
    const match = TOLERANCE.exec(part);
    const value = match ? Number(match[2]) : NaN;
    if (!match || !Number.isFinite(value) || value < 0) {
      return { kind: 'unreadable', part: part.trim() };
    }
    if (settings.has(match[1])) {
      return { kind: 'twice', name: match[1] };
    }
    settings.set(match[1], value);
  }
  const {
    replay: _replay,
    reason: _reason,
    ...others
  } = (cell.getMetadata(DECLARATION_KEY) as Record<string, unknown>) ?? {};
  const why = reason.trim();
  cell.setMetadata(DECLARATION_KEY, {
    ...others,
    replay: [...settings].map(([k, v]) => `${k}=${v}`).join(', '),
    ...(why ? { reason: why } : {})
  });
  return null;
}

/**
 * One file a cell touched, with the cells that wrote it before (for a read) or read it
 * after (for a write).
 */
export interface ITouchedFile {
  location: string;
  op: FileEvent['op'];
  opener: string;
  size: number | null;
  hash: string | null;
  /** For a read: the executions (order) that wrote this file earlier in the run. */
  writtenBy: number[];
  /** For a write: the executions (order) that read this file later in the run. */
  readBy: number[];
}

/**
 * One cell execution, from its cell_start and cell_end events and what happened between.
 */
export interface IExecution {
  order: number;
  cellId: string | null;
  source: string | null;
  sourceSha256: string;
  start: string;
  end: string | null;
  status: CellEndEvent['status'] | 'running';
  executionCount: number | null;
  error: string | null;
  files: ITouchedFile[];
  datasets: DatasetEvent[];
  jobs: JobEvent[];
}

/**
 * The timeline of one run: the environment, then the executions in their recorded order.
 */
export interface ITimeline {
  session: SessionEvent | null;
  executions: IExecution[];
  /** Pauses, resumes and the end, with the order of the cell after which they came. */
  controls: { action: string; reason: string | null; after: number }[];
}

function location(file: FileEvent | DatasetEvent): string {
  return String(file.path ?? file.url ?? '');
}

function contentHash(file: FileEvent): string | null {
  return file.manifest?.sha256 ?? file.tree?.sha256 ?? file.sha256 ?? null;
}

/**
 * Builds the timeline from the events of a log (in log order).
 */
export function buildTimeline(events: ProvenanceEvent[]): ITimeline {
  const sources = new Map<string, string>();
  const executions = new Map<number, IExecution>();
  const controls: ITimeline['controls'] = [];
  let session: SessionEvent | null = null;
  let lastOrder = 0;
  const execution = (e: CellStartEvent | CellEndEvent): IExecution => {
    let found = executions.get(e.order);
    if (!found) {
      found = {
        order: e.order,
        cellId: e.cell_id,
        source: null,
        sourceSha256: e.source_sha256,
        start: e.start,
        end: null,
        status: 'running',
        executionCount: null,
        error: null,
        files: [],
        datasets: [],
        jobs: []
      };
      executions.set(e.order, found);
    }
    return found;
  };
  for (const event of events) {
    switch (event.kind) {
      case 'session':
        session = session ?? event;
        break;
      case 'source':
        sources.set(event.sha256, event.text);
        break;
      case 'cell_start':
        execution(event);
        lastOrder = Math.max(lastOrder, event.order);
        break;
      case 'cell_end': {
        const done = execution(event);
        done.end = event.end;
        done.status = event.status;
        done.executionCount = event.execution_count;
        done.error = event.error
          ? `${event.error.name}: ${event.error.message}`
          : null;
        break;
      }
      case 'file': {
        const owner =
          event.cell !== null ? executions.get(event.cell) : undefined;
        owner?.files.push({
          location: location(event),
          op: event.op,
          opener: event.opener,
          size: event.size,
          hash: contentHash(event),
          writtenBy: [],
          readBy: []
        });
        break;
      }
      case 'dataset': {
        const owner =
          event.cell !== null ? executions.get(event.cell) : undefined;
        owner?.datasets.push(event);
        break;
      }
      case 'job': {
        const owner =
          event.cell !== null ? executions.get(event.cell) : undefined;
        owner?.jobs.push(event);
        break;
      }
      case 'control':
        controls.push({
          action: event.action,
          reason: event.reason,
          after: lastOrder
        });
        break;
    }
  }
  const ordered = [...executions.values()].sort((a, b) => a.order - b.order);
  for (const e of ordered) {
    e.source = sources.get(e.sourceSha256) ?? null;
  }
  linkFiles(ordered);
  return { session, executions: ordered, controls };
}

/**
 * Fills writtenBy (for reads) and readBy (for writes): the read/write graph's edges.
 */
function linkFiles(executions: IExecution[]): void {
  const writers = new Map<string, number[]>();
  for (const e of executions) {
    for (const f of e.files) {
      if (f.op === 'read') {
        f.writtenBy = [...(writers.get(f.location) ?? [])];
      }
    }
    for (const f of e.files) {
      if (f.op !== 'read') {
        writers.set(f.location, [...(writers.get(f.location) ?? []), e.order]);
      }
    }
  }
  const readers = new Map<string, number[]>();
  for (const e of [...executions].reverse()) {
    for (const f of e.files) {
      if (f.op !== 'read') {
        f.readBy = [...(readers.get(f.location) ?? [])].reverse();
      }
    }
    for (const f of e.files) {
      if (f.op === 'read') {
        readers.set(f.location, [...(readers.get(f.location) ?? []), e.order]);
      }
    }
  }
}

/**
 * The read/write graph: cells and files as nodes; an edge from a cell to each file it
 * wrote and from each file to the cells that read it. `flows` are the cell-to-cell edges
 * they imply (B read what A wrote).
 */
export interface IGraph {
  cells: { order: number; label: string; status: IExecution['status'] }[];
  files: { location: string; name: string; input: boolean; output: boolean }[];
  edges: { from: string; to: string; kind: 'read' | 'write' }[];
  flows: { from: number; to: number; file: string }[];
}

/**
 * The graph of a timeline. Node ids: `cell:<order>` and `file:<location>`.
 */
export function buildGraph(timeline: ITimeline): IGraph {
  const files = new Map<string, IGraph['files'][number]>();
  const edges: IGraph['edges'] = [];
  const seen = new Set<string>();
  const flows: IGraph['flows'] = [];
  const flowSeen = new Set<string>();
  for (const e of timeline.executions) {
    for (const f of e.files) {
      let node = files.get(f.location);
      if (!node) {
        node = {
          location: f.location,
          name: f.location.split('/').filter(Boolean).pop() ?? f.location,
          input: false,
          output: false
        };
        files.set(f.location, node);
      }
      const cell = `cell:${e.order}`;
      const file = `file:${f.location}`;
      const kind: 'read' | 'write' = f.op === 'read' ? 'read' : 'write';
      if (kind === 'read') {
        if (f.writtenBy.length === 0) {
          node.input = true;
        }
        for (const writer of f.writtenBy) {
          const key = `${writer}>${e.order}>${f.location}`;
          if (writer !== e.order && !flowSeen.has(key)) {
            flowSeen.add(key);
            flows.push({ from: writer, to: e.order, file: f.location });
          }
        }
      } else {
        node.output = true;
      }
      const edge: IGraph['edges'][number] =
        kind === 'read'
          ? { from: file, to: cell, kind }
          : { from: cell, to: file, kind };
      const key = `${edge.from}>${edge.to}`;
      if (!seen.has(key)) {
        seen.add(key);
        edges.push(edge);
      }
    }
  }
  return {
    cells: timeline.executions.map(e => ({
      order: e.order,
      label: firstLine(e.source) ?? e.cellId ?? `#${e.order}`,
      status: e.status
    })),
    files: [...files.values()],
    edges,
    flows
  };
}

/**
 * The first non-empty line of a cell's source, shortened for a label.
 */
export function firstLine(source: string | null, limit = 48): string | null {
  if (source === null) {
    return null;
  }
  const line = source.split('\n').find(l => l.trim()) ?? '';
  return line.length > limit ? `${line.slice(0, limit - 1)}…` : line;
}

/**
 * A short summary of the environment of a session, for the timeline's header.
 */
export function environmentSummary(session: SessionEvent | null): {
  python: string;
  platform: string;
  packages: number;
  conda: number;
  host: string;
} | null {
  if (!session) {
    return null;
  }
  return {
    python: `${session.python.implementation} ${session.python.version}`,
    platform: session.platform.platform,
    packages: session.packages.length,
    conda: session.conda?.packages.length ?? 0,
    host: session.hostname
  };
}

/**
 * The percentage of a replay done (0..100), for the progress bar.
 */
export function replayProgress(job: ReplayJob): number {
  if (job.state === 'done') {
    return 100;
  }
  if (!job.total) {
    return 0;
  }
  return Math.round((100 * job.done) / job.total);
}

/**
 * The URL of a file of the server (for "open in a new tab", the HTML report).
 */
export function filesUrl(
  path: string,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): string {
  return URLExt.join(settings.baseUrl, 'files', URLExt.encodeParts(path));
}
