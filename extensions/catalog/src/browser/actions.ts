/**
 * What the Catalogue Browser asks of the application (`BrowserActions`, given by the
 * plugin), and how the actions on one record follow from them (`recordActions`): the
 * same for intake-esm datasets and for remote records, only where a record is read
 * from differs.
 */
import type { CatalogStatus } from '@espri-vre/core';
import type { ServerConnection } from '@jupyterlab/services';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { DatasetRecord } from '../record';
import {
  remoteNetcdfFiles,
  remotePreviewAccess,
  serverNetcdfFiles
} from './dataset-actions';
import { isPinned, type Pin, togglePin } from './pins';
import type { RemoteQuery } from './query';
import type { RemoteBrowserActions } from './remote';

/** What the browser asks of the application. */
export interface BrowserActions {
  /** Insert code in a new cell below the active notebook's active cell. */
  insertCode(code: string): Promise<void>;
  copyCode(code: string): void;
  /** Why previews cannot open (no previewer installed), or null when they can. */
  previewUnavailable(): string | null;
  /** Preview the file or store at `path` on the server, which holds `record`. */
  preview(path: string, record: DatasetRecord): Promise<void>;
  /** Why footprints cannot be shown (no globe installed), or null when they can. */
  globeUnavailable?(): string | null;
  showOnGlobe?(record: DatasetRecord): Promise<void>;
  /**
   * Why datasets cannot be added to provenance (no recorder installed, no notebook
   * open), or null when they can.
   */
  provenanceUnavailable?(): string | null;
  /** Record the dataset in the provenance of the notebook the code goes to. */
  addToProvenance?(record: DatasetRecord): Promise<void>;
  /** The pins in the user's settings, and their change. */
  pins?(): readonly Pin[];
  setPins?(pins: Pin[]): Promise<void>;
  /** Call `onChange` when the pins change (returns the unsubscribe). */
  watchPins?(onChange: () => void): () => void;
  /** The link that opens a search (its state in the URL). */
  shareLink?(catalogId: string, query: RemoteQuery): string;
  /** Offer text as a file to save. */
  saveFile?(name: string, text: string): void;
}

export interface CatalogBrowserProps {
  catalog: Pick<CatalogStatus, 'id' | 'title' | 'kind' | 'url'>;
  settings: ServerConnection.ISettings;
  trans: TranslationBundle;
  actions: BrowserActions;
  /** Aborted when the view closes: cancels the loading. */
  signal: AbortSignal;
  /**
   * The absolute URL the server serves a file of its file system at, or null when it
   * serves it nowhere (see `filesRoute`).
   */
  serverFileUrl?: (path: string) => string | null;
  /** A search to start with (from a shared link, or the restored workspace). */
  initialQuery?: RemoteQuery;
  /** Told of each new search (the state a reload restores). */
  onQueryChange?: (query: RemoteQuery) => void;
  /** The configured catalogues, for the picker. */
  catalogs?: () => readonly Pick<CatalogStatus, 'id' | 'title' | 'kind'>[];
  /** Open another catalogue's browser. */
  onPickCatalog?: (id: string) => void;
}

/** Where the records of one browser are read from, and how to say they are not. */
export interface RecordPlace {
  /** The server path a record is previewed from, or null when it has none. */
  localPath(record: DatasetRecord): string | null;
  /** Why a record without such a path cannot be previewed. */
  noLocalPath: string;
  /** Why a record without a bbox or geometry cannot be shown on the globe. */
  noFootprint: string;
}

/** Which access "Preview" reads, for its tooltip. */
function previewVia(
  record: DatasetRecord,
  place: RecordPlace,
  trans: TranslationBundle
): string {
  const files = serverNetcdfFiles(record);
  if (files.length > 1) {
    return trans.__(
      'Preview its %1 files as one dataset, combined along time',
      files.length
    );
  }
  const remoteFiles = remoteNetcdfFiles(record);
  if (remoteFiles.length > 1) {
    return trans.__(
      'Preview its %1 files as one dataset, combined along time, read by Range requests through this server',
      remoteFiles.length
    );
  }
  const path = place.localPath(record);
  if (path !== null) {
    return trans.__('Preview %1, read on this server', path);
  }
  const remote = remotePreviewAccess(record);
  if (remote === null) {
    return trans.__('Preview it');
  }
  const service = remote.service ?? remote.description ?? remote.protocol;
  return remote.protocol === 'opendap'
    ? trans.__(
        'Preview %1 (%2), read by the server one request per chunk',
        remote.url,
        service
      )
    : trans.__(
        'Preview %1 (%2), read by Range requests through this server',
        remote.url,
        service
      );
}

/**
 * The actions on records of one browser. `onPins` is told after a pin changes, so
 * that the views re-read `isPinned`.
 */
export function recordActions(
  props: Pick<CatalogBrowserProps, 'actions' | 'trans'>,
  place: RecordPlace,
  onPins: () => void
): RemoteBrowserActions {
  const { actions, trans } = props;
  return {
    insertCode: code => actions.insertCode(code),
    copyCode: code => actions.copyCode(code),
    previewUnavailable: record =>
      actions.previewUnavailable() ??
      (place.localPath(record) === null && remotePreviewAccess(record) === null
        ? place.noLocalPath
        : null),
    previewVia: record => previewVia(record, place, trans),
    preview: async record => {
      const path = place.localPath(record);
      if (path !== null || remotePreviewAccess(record) !== null) {
        // '' when the server has no copy: the previewer reads the remote access.
        await actions.preview(path ?? '', record);
      }
    },
    globeUnavailable: record =>
      actions.globeUnavailable?.() ??
      (actions.showOnGlobe === undefined
        ? trans.__('The globe extension is not installed.')
        : record.spatial?.bbox === undefined &&
            record.spatial?.geometry === undefined
          ? place.noFootprint
          : null),
    showOnGlobe: async record => {
      await actions.showOnGlobe?.(record);
    },
    provenanceUnavailable: () =>
      actions.addToProvenance === undefined
        ? trans.__('The provenance extension is not installed.')
        : (actions.provenanceUnavailable?.() ?? null),
    addToProvenance: async record => {
      await actions.addToProvenance?.(record);
    },
    isPinned: record =>
      isPinned(actions.pins?.() ?? [], record.source.catalog_id, record.id),
    watchPins: onChange => actions.watchPins?.(onChange) ?? (() => undefined),
    togglePin: async (record, code) => {
      if (actions.setPins === undefined) {
        throw new Error(
          trans.__('Pins need the settings, which are not available.')
        );
      }
      const pin: Pin = {
        catalog_id: record.source.catalog_id,
        id: record.id,
        title: record.title,
        pinned: new Date().toISOString()
      };
      if (code !== null) {
        pin.code = code;
      }
      await actions.setPins(togglePin(actions.pins?.() ?? [], pin));
      onPins();
    },
    shareLink: (catalogId, query) => {
      if (actions.shareLink === undefined) {
        throw new Error(trans.__('Links cannot be made here.'));
      }
      return actions.shareLink(catalogId, query);
    },
    saveFile: (name, text) => {
      if (actions.saveFile === undefined) {
        throw new Error(trans.__('Files cannot be saved here.'));
      }
      actions.saveFile(name, text);
    }
  };
}
