/**
 * The Python tests' real servers on the loopback, started from the vitest tests:
 * kernels-bridge/tests/remote_servers.py (data servers with and without Range) and
 * opendap_server.py (pydap's DAP2 server), each run as a script that prints one JSON
 * line with its ports (and, with `--jupyter`, the suite's Jupyter server's URL and
 * token) and serves until its standard input closes.
 */
import { ServerConnection } from '@jupyterlab/services';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'vitest';

// Paths from this file's own (under jsdom, URL is jsdom's, which fileURLToPath refuses).
const HERE = dirname(fileURLToPath(import.meta.url));
export const PYTHON = resolve(HERE, '../../../.venv/bin/python');
export const TESTS = resolve(HERE, '../../../kernels-bridge/tests');
export const SAMPLE = resolve(HERE, '../../../../shared/data/cmip6-sample');

/** Run a Python script (without blocking vitest's worker); the JSON it prints last. */
export async function runPython<T>(script: string, args: string[]): Promise<T> {
  const { stdout } = await promisify(execFile)(
    PYTHON,
    ['-c', script, ...args],
    {
      encoding: 'utf-8',
      maxBuffer: 256 * 1024 * 1024,
      env: { ...process.env, MPLBACKEND: 'Agg' }
    }
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as T;
}

export interface ILoopback<T> {
  /** What the script printed: its ports (and `jupyter`, `token`). */
  line: T;
  /** The Jupyter server's settings, when the script started one. */
  settings: ServerConnection.ISettings | null;
  /** Stop the servers (their process ends when its standard input closes). */
  stop(): void;
}

/**
 * Run `script` (a file of kernels-bridge/tests) with `args`; resolves when its servers
 * listen and, with `--jupyter`, when the Jupyter server answers its status.
 */
export async function startLoopback<T>(
  script: string,
  args: string[],
  runtimeDir: string
): Promise<ILoopback<T>> {
  const child: ChildProcess = spawn(PYTHON, [resolve(TESTS, script), ...args], {
    stdio: ['pipe', 'pipe', 'ignore'],
    env: { ...process.env, JUPYTER_RUNTIME_DIR: runtimeDir }
  });
  const stop = (): void => {
    child.stdin?.end();
    child.kill();
  };
  const text: string = await new Promise((done, fail) => {
    createInterface({ input: child.stdout! }).once('line', done);
    child.once('exit', code => fail(new Error(`${script} exited (${code})`)));
  });
  const line = JSON.parse(text) as T & { jupyter?: string; token?: string };
  if (!line.jupyter) {
    return { line, settings: null, stop };
  }
  const settings = ServerConnection.makeSettings({
    baseUrl: line.jupyter,
    token: line.token
  });
  // The Jupyter server is up when its status answers (bounded: 60 tries).
  for (let i = 0; i < 60; i++) {
    const ok = await fetch(`${line.jupyter}api/status`, {
      headers: { Authorization: `token ${line.token}` }
    }).then(
      r => r.ok,
      () => false
    );
    if (ok) {
      return { line, settings, stop };
    }
    await new Promise(r => setTimeout(r, 500));
  }
  stop();
  throw new Error('The Jupyter server did not start.');
}

/** Equal within float32 precision relative to xarray's value; NaN where it has NaN. */
export function expectLikeXarray(
  got: ArrayLike<number>,
  wanted: (number | null)[],
  label: string
): void {
  expect(got.length, label).toBe(wanted.length);
  for (let i = 0; i < wanted.length; i++) {
    const w = wanted[i];
    if (w === null) {
      expect(got[i], `${label}[${i}]`).toBeNaN();
    } else if (w === 0) {
      expect(got[i], `${label}[${i}]`).toBe(0);
    } else {
      expect(
        Math.abs(got[i] - w) / Math.abs(w),
        `${label}[${i}]: ${got[i]} vs ${w}`
      ).toBeLessThan(1e-6);
    }
  }
}
