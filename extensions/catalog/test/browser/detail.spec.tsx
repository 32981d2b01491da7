// @vitest-environment jsdom
import { nullTranslator } from '@jupyterlab/translation';
import {
  cleanup,
  fireEvent,
  render,
  waitFor,
  within
} from '@testing-library/react';
import * as React from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { recordActions } from '../../src/browser/actions';
import { DatasetDetail } from '../../src/browser/detail';
import { emptyRecord } from '../../src/record';

const trans = nullTranslator.load('espri_vre');

afterEach(cleanup);

function record() {
  const made = emptyRecord(
    'tas-item',
    'Near-surface <b>air</b> temperature',
    'stac',
    'stac'
  );
  made.identifiers = { doi: '10.5281/zenodo.1234' };
  made.access = [{ url: '/srv/data/tas.nc', protocol: 'file' }];
  made.spatial = { bbox: [-10, 40, 10, 50] };
  return made;
}

function renderDetail(
  log: string[],
  extra: { recorder: boolean; notebookOpen: boolean; recording: boolean }
) {
  const actions = recordActions(
    {
      trans,
      actions: {
        insertCode: async code => {
          log.push(`insert:${code}`);
        },
        copyCode: code => log.push(`copy:${code}`),
        previewUnavailable: () => null,
        preview: async path => {
          log.push(`preview:${path}`);
        },
        globeUnavailable: () => null,
        showOnGlobe: async shown => {
          log.push(`globe:${shown.id}`);
        },
        ...(extra.recorder
          ? {
              provenanceUnavailable: () =>
                extra.notebookOpen ? null : 'Open a notebook first.',
              addToProvenance: async added => {
                log.push(`provenance:${added.id}`);
                if (!extra.recording) {
                  throw new Error('the kernel of a.ipynb is not recording.');
                }
              }
            }
          : {})
      }
    },
    {
      localPath: shown => shown.access[0]?.url ?? null,
      noLocalPath: 'No file.',
      noFootprint: 'No footprint.'
    },
    () => undefined
  );
  return render(
    <DatasetDetail
      record={record()}
      code={() => ({ code: 'import xarray' })}
      trans={trans}
      actions={actions}
      signal={new AbortController().signal}
      onClose={() => log.push('close')}
    />
  );
}

describe('DatasetDetail', () => {
  it('shows the record as text and runs its actions', async () => {
    const log: string[] = [];
    const { container } = renderDetail(log, {
      recorder: true,
      notebookOpen: true,
      recording: true
    });
    const detail = within(container);
    expect(container.querySelector('b')).toBeNull();
    expect(
      container.querySelector('.jp-EspriVre-detailTitle')?.textContent
    ).toBe('Near-surface <b>air</b> temperature');
    expect(
      container.querySelector('.jp-EspriVre-datasetCode')?.textContent
    ).toBe('import xarray');
    fireEvent.click(detail.getByRole('button', { name: 'Preview' }));
    fireEvent.click(detail.getByRole('button', { name: 'Show on globe' }));
    fireEvent.click(detail.getByRole('button', { name: 'Add to provenance' }));
    await waitFor(() =>
      expect(log).toEqual([
        'preview:/srv/data/tas.nc',
        'globe:tas-item',
        'provenance:tas-item'
      ])
    );
    await waitFor(() =>
      expect(
        container.querySelector('.jp-EspriVre-actionMessage')?.textContent
      ).toBe("The dataset is in the notebook's provenance.")
    );
    expect(
      container.querySelectorAll('.jp-EspriVre-actionUnavailable')
    ).toHaveLength(0);
  });

  it('says why a dataset cannot be added to provenance', async () => {
    const absent = renderDetail([], {
      recorder: false,
      notebookOpen: true,
      recording: true
    });
    const button = within(absent.container).getByRole('button', {
      name: 'Add to provenance'
    });
    expect(button).toHaveProperty('disabled', true);
    expect(button.title).toBe('The provenance extension is not installed.');
    cleanup();

    const closed = renderDetail([], {
      recorder: true,
      notebookOpen: false,
      recording: true
    });
    expect(
      within(closed.container).getByRole('button', {
        name: 'Add to provenance'
      }).title
    ).toBe('Open a notebook first.');
    expect(closed.container.textContent).toContain('Open a notebook first.');
    cleanup();

    const log: string[] = [];
    const off = renderDetail(log, {
      recorder: true,
      notebookOpen: true,
      recording: false
    });
    fireEvent.click(
      within(off.container).getByRole('button', { name: 'Add to provenance' })
    );
    await waitFor(() => {
      const message = off.container.querySelector('.jp-EspriVre-actionMessage');
      expect(message?.textContent).toBe(
        'The dataset could not be added to provenance: the kernel of a.ipynb is not recording.'
      );
      expect(message?.classList.contains('jp-mod-error')).toBe(true);
    });
  });
});

describe('DatasetDetail pins', () => {
  it('shows a pin that arrives after it has drawn (the settings loading after a reload)', async () => {
    let pins: {
      catalog_id: string;
      id: string;
      title: string;
      pinned: string;
    }[] = [];
    const watchers = new Set<() => void>();
    const actions = recordActions(
      {
        trans,
        actions: {
          insertCode: async () => undefined,
          copyCode: () => undefined,
          previewUnavailable: () => null,
          preview: async () => undefined,
          pins: () => pins,
          setPins: async next => {
            pins = next;
          },
          watchPins: onChange => {
            watchers.add(onChange);
            return () => watchers.delete(onChange);
          }
        }
      },
      {
        localPath: () => null,
        noLocalPath: 'No file.',
        noFootprint: 'No footprint.'
      },
      () => undefined
    );
    const { container, unmount } = render(
      <DatasetDetail
        record={record()}
        code={() => ({ code: 'import xarray' })}
        trans={trans}
        actions={actions}
        signal={new AbortController().signal}
        onClose={() => undefined}
      />
    );
    const pin = () => container.querySelector('.jp-EspriVre-pin')?.textContent;
    expect(pin()).toBe('Pin');
    expect(watchers.size).toBe(1);
    pins = [
      {
        catalog_id: 'stac',
        id: 'tas-item',
        title: 'tas',
        pinned: '2026-12-07T00:00:00Z'
      }
    ];
    React.act(() => watchers.forEach(watcher => watcher()));
    await waitFor(() => expect(pin()).toBe('Unpin'));
    unmount();
    expect(watchers.size).toBe(0);
  });
});
