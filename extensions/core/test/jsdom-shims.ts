/**
 * What jsdom lacks and JupyterLab's packages use when they are imported (a vitest
 * setup file, see vitest.config.ts; JupyterLab's own tests shim the same in
 * @jupyterlab/testing). Applies only to tests that run in jsdom.
 */
if (typeof window !== 'undefined') {
  if (typeof globalThis.DragEvent === 'undefined') {
    // @lumino/dragdrop subclasses DragEvent when it is loaded.
    class DragEvent extends MouseEvent {
      readonly dataTransfer: DataTransfer | null = null;
    }
    globalThis.DragEvent = DragEvent as typeof globalThis.DragEvent;
  }

  if (typeof window.matchMedia !== 'function') {
    // @jupyter/web-components' design tokens query the colour scheme on load:
    // answer as a browser that matches no media query.
    window.matchMedia = (media: string): MediaQueryList =>
      ({
        matches: false,
        media,
        onchange: null,
        addEventListener: () => undefined,
        removeEventListener: () => undefined,
        addListener: () => undefined,
        removeListener: () => undefined,
        dispatchEvent: () => true
      }) as MediaQueryList;
  }

  if (typeof window.requestIdleCallback !== 'function') {
    // ReactWidget renders in an idle callback.
    window.requestIdleCallback = (callback: IdleRequestCallback): number => {
      const start = Date.now();
      return window.setTimeout(
        () =>
          callback({
            didTimeout: false,
            timeRemaining: () => Math.max(0, 50 - (Date.now() - start))
          }),
        1
      );
    };
    window.cancelIdleCallback = (handle: number) => window.clearTimeout(handle);
  }
}
