// @vitest-environment jsdom
import type { JobListResponse } from '@espri-vre/core';
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { LabShell, LayoutRestorer } from '@jupyterlab/application';
import {
  type ISettingRegistry,
  SettingRegistry
} from '@jupyterlab/settingregistry';
import { StateDB } from '@jupyterlab/statedb';
import { CommandRegistry } from '@lumino/commands';
import { ContextMenu, Widget } from '@lumino/widgets';
import { fireEvent, waitFor } from '@testing-library/react';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableStyle } from '../src/column-headers';
import {
  ColumnWidthsModel,
  MAX_COLUMN_WIDTH,
  MIN_COLUMN_WIDTH,
  readWidths,
  resized
} from '../src/columns';
import plugins from '../src/index';
import { JOBS_PANEL_ID, type JobsPanel } from '../src/panel';
import { JobsApiServer } from './api-server';
import jobsFixture from './fixtures/jobs.json';

const PLUGIN_ID = '@espri-vre/jobs:panel';
// The plugin's own settings schema, as JupyterLab's registry validates against it.
const SCHEMA = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', 'schema', 'panel.json'), 'utf8')
) as ISettingRegistry.ISchema;

describe('the Jobs table’s column widths', () => {
  it('drops what is not a width and keeps widths within bounds', () => {
    expect(
      readWidths({
        name: 320.4,
        state: 'wide',
        partition: 5,
        elapsed: 1e9,
        owner: 100
      })
    ).toEqual({
      name: 320,
      partition: MIN_COLUMN_WIDTH,
      elapsed: MAX_COLUMN_WIDTH
    });
    expect(readWidths(null)).toEqual({});
    expect(readWidths([200])).toEqual({});
  });

  it('starts a first drag from the widths shown, so that the other columns stay put', () => {
    const shown = { name: 310.6, state: 90, partition: 80, elapsed: 70 };
    expect(resized({}, shown, 'name', -61)).toEqual({
      name: 250,
      state: 90,
      partition: 80,
      elapsed: 70
    });
    // Never narrower than a border within reach.
    expect(resized({}, shown, 'state', -500).state).toBe(MIN_COLUMN_WIDTH);
    // The table is laid out from the widths only once every column has one.
    expect(tableStyle({ name: 200 })).toEqual({});
    expect(
      tableStyle({ name: 200, state: 90, partition: 80, elapsed: 70 })
    ).toEqual({ tableLayout: 'fixed', width: 472 });
  });

  it('tells its views of new widths once, and of a failed save', async () => {
    const model = new ColumnWidthsModel(() =>
      Promise.reject(new Error('read-only settings'))
    );
    let told = 0;
    model.changed.connect(() => (told += 1));
    model.load({ name: 200 });
    model.load({ name: 200 });
    expect(told).toBe(1);
    await expect(model.commit({ name: 250 })).rejects.toThrow(
      'read-only settings'
    );
    expect(model.widths).toEqual({ name: 250 });
  });
});

/**
 * A real HTTP server playing the Jobs API with the recorded listing (local jobs and a
 * Slurm squeue --json).
 */
const api = new JobsApiServer(({ route }) => {
  const answers: Record<string, unknown> = {
    jobs: jobsFixture as JobListResponse,
    schedules: { schedules: [] },
    'pipelines/runs': { runs: [] }
  };
  return route in answers ? [200, answers[route]] : undefined;
});

beforeAll(() => api.start());
afterAll(() => api.stop());

/**
 * JupyterLab's own setting registry over the user's settings file as kept in `saved`
 * (what the server's settings API stores), validating against the plugin's schema.
 */
function registry(saved: Map<string, string>): SettingRegistry {
  return new SettingRegistry({
    connector: {
      fetch: async (id: string) => ({
        id,
        schema: SCHEMA,
        raw: saved.get(id) ?? '{}',
        data: { composite: {}, user: {} },
        version: '0.1.0'
      }),
      list: async () => ({ ids: [], values: [] }),
      save: async (id: string, raw: string) => {
        saved.set(id, raw);
      },
      remove: async () => undefined
    }
  });
}

// jsdom has no ResizeObserver, which the shell's widgets observe: an inert one, as
// JupyterLab's own test shim (@jupyterlab/testing) installs.
globalThis.ResizeObserver ??= class {
  observe(): void {
    return;
  }
  unobserve(): void {
    return;
  }
  disconnect(): void {
    return;
  }
};

/**
 * The panel plugin activated with the registry in JupyterLab's shell, on the page,
 * its sidebar panel shown.
 */
async function sidebarPanel(settings: SettingRegistry): Promise<JobsPanel> {
  const commands = new CommandRegistry();
  const shell = new LabShell();
  const app = {
    commands,
    shell,
    contextMenu: new ContextMenu({ commands }),
    serviceManager: {
      serverSettings: api.serverSettings
    },
    restored: new Promise<void>(() => undefined)
  } as unknown as JupyterFrontEnd;
  // optional: palette, restorer, settings, translator, launcher
  plugins[0].activate(app, null, null, settings, null, null);
  // The shell places its widgets once its layout is restored, as at start-up.
  await shell.restoreLayout(
    'multiple-document',
    new LayoutRestorer({
      connector: new StateDB(),
      first: Promise.resolve(),
      registry: commands
    })
  );
  Widget.attach(shell, document.body);
  shell.activateById(JOBS_PANEL_ID);
  const panel = Array.from(shell.widgets('left')).find(
    w => w.id === JOBS_PANEL_ID
  ) as JobsPanel;
  return panel;
}

/** The user's settings of the plugin, read back from `saved` as JupyterLab reads them. */
async function userSettings(saved: Map<string, string>): Promise<unknown> {
  return (await registry(saved).load(PLUGIN_ID)).user;
}

function table(panel: JobsPanel): HTMLTableElement {
  const node = panel.node.querySelector('table.jp-EspriVre-jobsTable');
  expect(node).not.toBeNull();
  return node as HTMLTableElement;
}

describe('resizing the Jobs table', () => {
  it('keeps a width set from the keyboard in the settings across a reload, and fits again', async () => {
    const saved = new Map<string, string>();
    const before = await sidebarPanel(registry(saved));
    await waitFor(() => table(before));
    const border = before.node.querySelector(
      '[role="separator"][data-column="name"]'
    ) as HTMLElement;
    expect(border.getAttribute('aria-label')).toBe('Resize the Name column');

    // jsdom lays nothing out: every column is measured at 0 and starts at the least.
    fireEvent.keyDown(border, { key: 'ArrowRight' });
    const widths = {
      name: MIN_COLUMN_WIDTH + 16,
      state: MIN_COLUMN_WIDTH,
      partition: MIN_COLUMN_WIDTH,
      elapsed: MIN_COLUMN_WIDTH
    };
    await waitFor(async () =>
      expect(await userSettings(saved)).toEqual({
        columnWidths: { sidebar: widths }
      })
    );
    expect(table(before).dataset.sized).toBe('true');
    expect(table(before).style.width).toBe('240px');
    expect(border.getAttribute('aria-valuenow')).toBe('64');
    before.parent?.parent?.dispose();

    // A reload: a new registry and panel over the same saved settings.
    const after = await sidebarPanel(registry(saved));
    await waitFor(() => expect(table(after).style.tableLayout).toBe('fixed'));
    expect(
      Array.from(
        table(after).querySelectorAll('col[data-column]'),
        col => (col as HTMLElement).style.width
      )
    ).toEqual(['64px', '48px', '48px', '48px']);

    // A double-click on a border fits the columns to their content again.
    fireEvent.doubleClick(
      after.node.querySelector('[role="separator"][data-column="state"]')!
    );
    await waitFor(async () =>
      expect(await userSettings(saved)).toEqual({
        columnWidths: { sidebar: {} }
      })
    );
    expect(table(after).style.tableLayout).toBe('');
    expect(table(after).dataset.sized).toBe('false');
    after.parent?.parent?.dispose();
  });

  it('shows the table fitted to its content when the saved widths are not valid', async () => {
    // Hand-edited: JupyterLab's registry refuses it against the schema (and says so in
    // the console and the Settings editor); the panel still lists the jobs.
    const saved = new Map([
      [PLUGIN_ID, '{"columnWidths": {"sidebar": {"name": "wide"}}}']
    ]);
    await expect(userSettings(saved)).rejects.toBeDefined();
    const panel = await sidebarPanel(registry(saved));
    await waitFor(() =>
      expect(
        table(panel).querySelectorAll('tr.jp-EspriVre-jobRow')
      ).toHaveLength((jobsFixture as JobListResponse).jobs.length)
    );
    expect(table(panel).dataset.sized).toBe('false');
    expect(saved.get(PLUGIN_ID)).toBe(
      '{"columnWidths": {"sidebar": {"name": "wide"}}}'
    );
    panel.parent?.parent?.dispose();
  });
});
