/**
 * Loads CesiumJS's prebuilt bundle, copied into this labextension's static/
 * folder at build time (scripts/copy-cesium.mjs), with a <script> tag: Cesium
 * never goes through JupyterLab's webpack build, and nothing is fetched off the
 * Jupyter server (no CDN, no Ion).
 */
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import type * as CesiumModule from 'cesium';

export type Cesium = typeof CesiumModule;

declare global {
  interface Window {
    CESIUM_BASE_URL?: string;
    Cesium?: Cesium;
  }
}

/** Where JupyterLab serves this extension's static/cesium/ folder, ending in '/'. */
export function cesiumBaseUrl(): string {
  const extensions =
    PageConfig.getOption('fullLabextensionsUrl') ||
    URLExt.join(PageConfig.getBaseUrl(), 'lab', 'extensions');
  return URLExt.join(extensions, '@espri-vre/globe', 'static', 'cesium') + '/';
}

let loading: Promise<Cesium> | null = null;

/** Cesium, loaded once per page. */
export function loadCesium(): Promise<Cesium> {
  if (!loading) {
    loading = inject(cesiumBaseUrl()).catch(reason => {
      loading = null;
      throw reason;
    });
  }
  return loading;
}

function inject(base: string): Promise<Cesium> {
  if (window.Cesium) {
    return Promise.resolve(window.Cesium);
  }
  // Cesium reads this when it starts, to find its Workers, Assets and Widgets.
  window.CESIUM_BASE_URL = base;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = base + 'Widgets/widgets.css';
  document.head.appendChild(link);
  return new Promise<Cesium>((resolve, reject) => {
    const script = document.createElement('script');
    script.src = base + 'Cesium.js';
    script.async = true;
    script.onload = () => {
      if (window.Cesium) {
        resolve(window.Cesium);
      } else {
        reject(new Error(`${script.src} loaded but defined no Cesium global.`));
      }
    };
    script.onerror = () =>
      reject(
        new Error(
          `Could not load ${script.src}: was the labextension built with its static/cesium/ folder?`
        )
      );
    document.head.appendChild(script);
  });
}
