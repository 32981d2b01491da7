import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The project's virtual environment, where xarray, cftime and kerchunk live. */
export const PYTHON = fileURLToPath(
  new URL('../../../.venv/bin/python', import.meta.url)
);

/** Run a Python script and parse the JSON it prints last. */
export function runPython<T>(script: string, args: string[] = []): T {
  const out = execFileSync(PYTHON, ['-c', script, ...args], {
    encoding: 'utf-8',
    maxBuffer: 64 * 1024 * 1024
  });
  const lines = out.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as T;
}
