/**
 * The part of `@jupyterlab/launcher` this package uses. The package is not among the
 * repository's npm dependencies (package-lock.json is shared, and installing it is
 * the lead's call), but JupyterLab itself provides it at run time: the labextension
 * builder makes every core package a shared singleton that is not bundled
 * (`import: false`), so the import resolves to JupyterLab's own module and token. Only
 * the types are missing, and these are they (from @jupyterlab/launcher 4.6's
 * `tokens.d.ts`).
 */
declare module '@jupyterlab/launcher' {
  import type { ReadonlyJSONObject, Token } from '@lumino/coreutils';

  export interface ILauncher {
    /** Add a card; disposing of the result removes it. */
    add(options: ILauncher.IItemOptions): { dispose(): void };
  }

  export namespace ILauncher {
    interface IItemOptions {
      command: string;
      args?: ReadonlyJSONObject;
      category?: string;
      rank?: number;
      kernelIconUrl?: string;
      metadata?: ReadonlyJSONObject;
    }
  }

  export const ILauncher: Token<ILauncher>;
}
