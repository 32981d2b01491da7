/**
 * Copies CesiumJS's prebuilt distribution (Cesium.js, Workers, Assets with the
 * NaturalEarthII imagery, ThirdParty, Widgets) into the labextension's static/
 * folder. Cesium is loaded at run time from there with a <script> tag instead of
 * going through JupyterLab's webpack build, which would be slow and huge.
 */
import { cpSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = JSON.parse(readFileSync(join(here, '..', 'package.json'), 'utf-8'));
const require = createRequire(import.meta.url);

let cesiumRoot;
try {
  cesiumRoot = dirname(require.resolve('cesium/package.json'));
} catch {
  console.error(
    'copy-cesium: the npm package "cesium" is not installed; run `npm install`.'
  );
  process.exit(1);
}
const source = join(cesiumRoot, 'Build', 'Cesium');
const needed = ['Cesium.js', 'Workers', 'Assets', 'ThirdParty', 'Widgets'];
const missing = needed.filter(name => !existsSync(join(source, name)));
if (missing.length > 0) {
  console.error(`copy-cesium: ${source} lacks ${missing.join(', ')}`);
  process.exit(1);
}

const target = join(
  resolve(here, '..', pkg.jupyterlab.outputDir),
  'static',
  'cesium'
);
rmSync(target, { recursive: true, force: true });
for (const name of needed) {
  cpSync(join(source, name), join(target, name), { recursive: true });
}
console.log(`copy-cesium: ${source} -> ${target}`);
