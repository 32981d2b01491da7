/**
 * jsdom has no ResizeObserver (a MainAreaWidget's toolbar observes its size) nor
 * IntersectionObserver (@jupyterlab/notebook subclasses it when its module loads): inert
 * ones, as JupyterLab's own test shim (@jupyterlab/testing) installs. Imported before
 * any JupyterLab package.
 */
class InertObserver {
  observe(): void {
    return;
  }
  unobserve(): void {
    return;
  }
  disconnect(): void {
    return;
  }
  takeRecords(): [] {
    return [];
  }
}

globalThis.ResizeObserver ??=
  InertObserver as unknown as typeof globalThis.ResizeObserver;
globalThis.IntersectionObserver ??=
  InertObserver as unknown as typeof globalThis.IntersectionObserver;
