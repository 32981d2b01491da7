import { Token } from '@lumino/coreutils';
import type { ISignal } from '@lumino/signaling';
import type { Widget } from '@lumino/widgets';
import type {
  CatalogStatus,
  ClusterStatus,
  DataRootStatus,
  StatusResponse
} from './api.generated';
import type { DatasetReference } from './dataset';

/**
 * The catalogues the server is configured with, and whether each answers.
 *
 * Provided by `@espri-vre/catalog:panel`. The registry is fed by
 * `GET /espri-vre/api/status`, which also reports the clusters and data roots: the
 * registry keeps them so that one request serves every view of the server's set-up.
 */
export interface ICatalogRegistry {
  /** Where the last refresh stands. */
  readonly state: ICatalogRegistry.State;
  /** The configured catalogues as of the last successful refresh; empty before it. */
  readonly catalogs: readonly CatalogStatus[];
  /** The configured clusters as of the last successful refresh. */
  readonly clusters: readonly ClusterStatus[];
  /** The configured data roots as of the last successful refresh. */
  readonly dataRoots: readonly DataRootStatus[];
  /** The whole last status answer, or `null` before the first success. */
  readonly status: StatusResponse | null;
  /**
   * Why the last refresh failed (an `ApiError` or `NetworkError`), or `null` when it
   * did not. The last good `status` is kept alongside it.
   */
  readonly error: Error | null;
  /** Emitted whenever `state`, `status` or `error` changes. */
  readonly changed: ISignal<ICatalogRegistry, void>;
  /** The catalogue with this id, if configured. */
  get(id: string): CatalogStatus | undefined;
  /**
   * Ask the server for the status again (it re-checks reachability).
   *
   * A call made while a refresh is under way cancels that request and sends a new
   * one; every pending caller then settles with the newest answer. The promise
   * rejects with the error that `error` then holds.
   */
  refresh(): Promise<StatusResponse>;
}

export namespace ICatalogRegistry {
  /**
   * - `idle`: no refresh has been asked for yet.
   * - `loading`: a refresh is under way (`status` may still hold the previous answer).
   * - `ready`: the last refresh succeeded.
   * - `error`: the last refresh failed.
   */
  export type State = 'idle' | 'loading' | 'ready' | 'error';
}

/**
 * The catalogue registry of the suite.
 */
export const ICatalogRegistry = new Token<ICatalogRegistry>(
  '@espri-vre/core:ICatalogRegistry',
  'The catalogues, clusters and data roots the espri-vre server is configured with, and their reachability.'
);

/**
 * Shows a quick look at a dataset (a map slice, a time series, a table head) read
 * chunk by chunk in the browser.
 */
export interface IDatasetPreviewer {
  /** Whether one of the dataset's access URLs can be previewed. */
  canPreview(dataset: DatasetReference): boolean;
  /**
   * Open a preview of the dataset in the main area.
   *
   * @returns The preview widget, already added to the shell.
   */
  open(
    dataset: DatasetReference,
    options?: IDatasetPreviewer.IOpenOptions
  ): Promise<Widget>;
}

export namespace IDatasetPreviewer {
  export interface IOpenOptions {
    /** The variable to show first; the previewer chooses one when omitted. */
    variable?: string;
    /** Cancels the metadata reads that happen before the widget opens. */
    signal?: AbortSignal;
    /**
     * Draw the first slice shown on the globe as soon as it is read (what "Show on
     * Globe" of a file does: reading a dataset's slices is the previewer's job).
     */
    showOnGlobe?: boolean;
  }
}

/**
 * The dataset previewer of the suite.
 */
export const IDatasetPreviewer = new Token<IDatasetPreviewer>(
  '@espri-vre/core:IDatasetPreviewer',
  'Opens chunked previews of datasets (slices, time series, tables).'
);

/**
 * The 3D globe: datasets shown as layers.
 */
export interface IGlobe {
  /** The layers on the globe, bottom first. */
  readonly layers: readonly IGlobe.ILayer[];
  /** Emitted when a layer is added or removed. */
  readonly layersChanged: ISignal<IGlobe, void>;
  /**
   * Show a dataset on the globe, opening the globe if needed.
   *
   * @returns The new layer.
   */
  show(
    dataset: DatasetReference,
    options?: IGlobe.IShowOptions
  ): Promise<IGlobe.ILayer>;
  /**
   * Draw a dataset's footprint (boxes and polygons), opening the globe if needed; the
   * camera flies to the first box unless `fly` is false.
   *
   * @returns The new layer.
   */
  addFootprint(footprint: IGlobe.IFootprint): Promise<IGlobe.ILayer>;
  /**
   * Draw a field on a regular lat/lon grid (a slice the previewer has read), opening
   * the globe if needed.
   *
   * @returns The new layer.
   */
  addField(field: IGlobe.IField): Promise<IGlobe.ILayer>;
  /** Remove a layer; unknown ids are ignored. */
  remove(layerId: string): void;
  /** Move the camera so that the box is in view. */
  flyTo(box: IGlobe.IBoundingBox): void;
}

export namespace IGlobe {
  /** A geographic box in degrees (WGS 84); `west > east` crosses the antimeridian. */
  export interface IBoundingBox {
    west: number;
    south: number;
    east: number;
    north: number;
  }

  export interface IShowOptions {
    /** The variable to draw; the globe chooses one when omitted. */
    variable?: string;
    /** ISO 8601 time of the slice to draw first. */
    time?: string;
    signal?: AbortSignal;
  }

  export interface IFootprint {
    title: string;
    boxes?: IBoundingBox[];
    /** Outer rings of polygons, each a list of `[lon, lat]` vertices in degrees. */
    polygons?: [number, number][][];
    /** A CSS colour; the globe's footprint colour when omitted. */
    color?: string;
    /** Fly to the first box (the default), or leave the camera where it is. */
    fly?: boolean;
  }

  /** A field on a regular lat/lon grid. */
  export interface IField {
    title: string;
    /** Cell-centre longitudes, regularly spaced, in 0..360 or -180..180. */
    lon: number[];
    /** Cell-centre latitudes, regularly spaced, ascending or descending. */
    lat: number[];
    /** Row-major (lat, lon) values; null where missing. */
    values: (number | null)[];
    colormap?: 'viridis' | 'rdbu';
    /** Colour limits; the finite range of the values when omitted. */
    min?: number;
    max?: number;
  }

  export interface ILayer {
    readonly id: string;
    readonly title: string;
    /** `grid`: a field slice; `points`: stations; `lines`: trajectories or orbits. */
    readonly kind: 'grid' | 'points' | 'lines';
    readonly dataset: DatasetReference;
  }
}

/**
 * The globe of the suite.
 */
export const IGlobe = new Token<IGlobe>(
  '@espri-vre/core:IGlobe',
  'The CesiumJS globe on which datasets are shown as layers.'
);

/**
 * Jobs on the clusters the server is configured with (Slurm, Torque, local).
 */
export interface IJobService {
  /** The jobs known as of the last refresh, newest first. */
  readonly jobs: readonly IJobService.IJob[];
  /** Emitted when `jobs` changes. */
  readonly changed: ISignal<IJobService, void>;
  /** Submit a job; the server validates the resources before submitting. */
  submit(request: IJobService.ISubmitRequest): Promise<IJobService.IJob>;
  /** Cancel a job. */
  cancel(clusterId: string, jobId: string): Promise<void>;
  /** Ask the server for the jobs' states again. */
  refresh(): Promise<void>;
}

export namespace IJobService {
  /**
   * `unknown` is what a transient scheduler error gives: never read it as finished.
   */
  export type State =
    | 'pending'
    | 'held'
    | 'running'
    | 'completed'
    | 'failed'
    | 'cancelled'
    | 'unknown';

  export interface IResources {
    /** Slurm partition or Torque queue. */
    queue?: string;
    nodes?: number;
    cores?: number;
    memory_mb?: number;
    walltime_s?: number;
    gpus?: number;
  }

  export interface ISubmitRequest {
    clusterId: string;
    /** A batch script, a Python file, or a notebook run with papermill. */
    kind: 'script' | 'python' | 'notebook';
    /** Path of the file under the server root. */
    path: string;
    /** papermill parameters (notebooks) or arguments (scripts). */
    parameters?: Record<string, unknown>;
    resources: IResources;
  }

  export interface IJob {
    clusterId: string;
    jobId: string;
    name: string;
    state: State;
    /** ISO 8601 times, when the scheduler states them. */
    submitted?: string;
    started?: string;
    ended?: string;
  }
}

/**
 * The job service of the suite.
 */
export const IJobService = new Token<IJobService>(
  '@espri-vre/core:IJobService',
  'Submits, lists and cancels jobs on the configured clusters.'
);

/**
 * The front-end side of provenance capture. The kernel records cell executions and
 * file reads itself; this adds what only the user interface knows, such as the
 * dataset a user picked in a catalogue.
 *
 * Whether capture is on is the kernel's to say (the notebook's toolbar asks the server
 * after each cell): `addDataset` answers it for the call that needs it, rather than a
 * second copy of that state kept here.
 */
export interface IProvenanceRecorder {
  /**
   * Record, in the provenance of the notebook at this path (relative to the server
   * root), that it uses the dataset: its identifiers (DOI, PID, instance id, version,
   * tracking id) and its way in. The notebook's kernel appends it as a `dataset` event
   * of origin `catalogue`.
   *
   * @returns Whether the kernel recorded it: false when its capture is off or paused.
   * @throws Error when no kernel runs for the notebook, or it cannot record (no
   *   espri_vre in its environment).
   */
  addDataset(notebookPath: string, dataset: DatasetReference): Promise<boolean>;
}

/**
 * The provenance recorder of the suite.
 */
export const IProvenanceRecorder = new Token<IProvenanceRecorder>(
  '@espri-vre/core:IProvenanceRecorder',
  'Adds user-interface events (such as datasets picked in a catalogue) to provenance capture.'
);
