// @vitest-environment jsdom
import type { JobInfo, JobListResponse } from '@espri-vre/core';
import { nullTranslator } from '@jupyterlab/translation';
import {
  act,
  cleanup,
  fireEvent,
  render,
  waitFor
} from '@testing-library/react';
import * as React from 'react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ColumnWidths, ColumnWidthsModel } from '../src/columns';
import { JobsPanelComponent } from '../src/panel';
import { JobService } from '../src/service';
import { JobsApiServer } from './api-server';
import jobsFixture from './fixtures/jobs.json';

const trans = nullTranslator.load('espri_vre');
const RECORDED = jobsFixture as JobListResponse;

// jsdom has no PointerEvent: a MouseEvent with a pointer id, as browsers make it, so
// that React reads the button and the position of a pressed border.
class PointerEventShim extends MouseEvent {
  constructor(type: string, init: PointerEventInit = {}) {
    super(type, init);
    this.pointerId = init.pointerId ?? 1;
  }
  readonly pointerId: number;
}
globalThis.PointerEvent ??= PointerEventShim as unknown as typeof PointerEvent;

/**
 * The Jobs API: the recorded listing, then, from the `changeAfter`-th request on, the
 * same with the first job renamed longer and running again (what a refresh brings that
 * moves columns fitted to their content).
 */
let requests = 0;
let changeAfter = Infinity;
const CHANGED: JobListResponse = {
  ...RECORDED,
  jobs: RECORDED.jobs.map((job: JobInfo, i) =>
    i === 0
      ? { ...job, name: 'a-much-longer-name-than-before', state: 'RUNNING' }
      : job
  )
};
const api = new JobsApiServer(({ route }) => {
  const answers: Record<string, () => unknown> = {
    jobs: () => (++requests >= changeAfter ? CHANGED : RECORDED),
    schedules: () => ({ schedules: [] }),
    'pipelines/runs': () => ({ runs: [] })
  };
  return route in answers ? [200, answers[route]()] : undefined;
});

beforeAll(() => api.start());
afterAll(() => api.stop());

afterEach(() => {
  cleanup();
  requests = 0;
  changeAfter = Infinity;
});

/** Widths as a page would lay them out (jsdom lays nothing out), on the header cells. */
const SHOWN: Record<string, number> = {
  name: 310.6,
  state: 90.2,
  partition: 80,
  elapsed: 70.4
};

/** The Jobs table over the test's server, its widths saved into `saved`; its parts. */
async function renderTable(saved: ColumnWidths[]) {
  const service = new JobService({ serverSettings: api.serverSettings });
  const model = new ColumnWidthsModel(async widths => {
    saved.push(widths);
  });
  const { container } = render(
    <JobsPanelComponent service={service} trans={trans} columns={model} />
  );
  await act(() => service.refresh());
  const table = container.querySelector<HTMLTableElement>(
    'table.jp-EspriVre-jobsTable'
  )!;
  expect(table).not.toBeNull();
  for (const th of table.querySelectorAll<HTMLElement>('th[data-column]')) {
    const width = SHOWN[th.dataset.column!];
    th.getBoundingClientRect = () => ({ width }) as DOMRect;
  }
  const border = table.querySelector<HTMLElement>(
    '[role="separator"][data-column="name"]'
  )!;
  const colWidths = () =>
    Array.from(
      table.querySelectorAll<HTMLElement>('col[data-column]'),
      col => col.style.width
    );
  const firstName = () =>
    table.querySelector(
      `tr[data-job-id="${RECORDED.jobs[0].id}"] .jp-EspriVre-jobName`
    )?.textContent;
  return { service, model, table, border, colWidths, firstName };
}

describe('a column border under a refreshing job list', () => {
  it('keeps a drag that a refresh of the list interrupts, on the same border', async () => {
    const saved: ColumnWidths[] = [];
    const { service, model, table, border, firstName } =
      await renderTable(saved);
    expect(firstName()).toBe('hello');

    fireEvent.pointerDown(border, { button: 0, clientX: 400, pointerId: 7 });
    // The list refreshes while the button is down: the rows change, not the header.
    changeAfter = requests + 1;
    await act(() => service.refresh());
    expect(firstName()).toBe('a-much-longer-name-than-before');
    expect(table.querySelector('[role="separator"][data-column="name"]')).toBe(
      border
    );

    fireEvent.pointerMove(border, { clientX: 480, pointerId: 7 });
    expect(model.widths.name).toBe(391);
    fireEvent.pointerUp(border, { clientX: 480, pointerId: 7 });
    // Started from the widths shown: the other columns stay as they were.
    await waitFor(() =>
      expect(saved).toEqual([
        { name: 391, state: 90, partition: 80, elapsed: 70 }
      ])
    );
    expect(table.dataset.sized).toBe('true');
    expect(table.dataset.held).toBe('false');
    expect(border.getAttribute('aria-valuenow')).toBe('391');
  });

  it('holds the fitted columns still while the pointer is over the header, and fits them again after', async () => {
    const saved: ColumnWidths[] = [];
    const { service, table, border, colWidths } = await renderTable(saved);
    const header = table.querySelector('thead tr')!;
    expect(table.dataset.held).toBe('false');
    expect(table.style.tableLayout).toBe('');

    fireEvent.pointerEnter(header);
    expect(table.dataset.held).toBe('true');
    expect(table.style.tableLayout).toBe('fixed');
    expect(colWidths()).toEqual(['310.6px', '90.2px', '80px', '70.4px']);
    changeAfter = requests + 1;
    await act(() => service.refresh());
    expect(colWidths()).toEqual(['310.6px', '90.2px', '80px', '70.4px']);

    // Held, not saved: the pointer gone, the columns fit their content again.
    fireEvent.pointerLeave(header);
    expect(table.dataset.held).toBe('false');
    expect(table.style.tableLayout).toBe('');
    expect(colWidths()).toEqual(['', '', '', '']);
    expect(saved).toEqual([]);

    // A double-click on a border fits at once, pointer still over the header.
    fireEvent.pointerEnter(header);
    expect(table.dataset.held).toBe('true');
    fireEvent.doubleClick(border);
    expect(table.dataset.held).toBe('false');
    await waitFor(() => expect(saved).toEqual([{}]));
  });
});
