/**
 * What the previewer opens: file names it offers "Preview" for, and the source of a
 * catalogue's dataset.
 */
import type { DatasetReference } from '@espri-vre/core';
import type { PreviewSource } from './widget';

/** The names the file browser offers "Preview" for. */
export const PREVIEW_EXTENSIONS = [
  '.nc',
  '.nc4',
  '.h5',
  '.hdf5',
  '.zarr',
  '.parquet',
  '.csv',
  '.arrow',
  '.feather'
];

/** Whether a file or folder name is one the previewer reads. */
export function hasPreviewExtension(name: string): boolean {
  const lower = name.toLowerCase().replace(/\/+$/, '');
  return PREVIEW_EXTENSIONS.some(ext => lower.endsWith(ext));
}

/** The source a catalogue's dataset is previewed from, if any. */
export function previewSource(dataset: DatasetReference): PreviewSource | null {
  for (const access of dataset.access) {
    if (access.protocol === 'zarr' && /^https?:\/\//.test(access.url)) {
      return { kind: 'zarr-url', url: access.url };
    }
    if (access.protocol === 'file' && hasPreviewExtension(access.url)) {
      return { kind: 'path', path: access.url };
    }
  }
  return null;
}
