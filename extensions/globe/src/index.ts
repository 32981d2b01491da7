/**
 * @packageDocumentation
 * The CesiumJS globe of the espri-vre suite, fully offline, and the IGlobe
 * service through which other extensions and the Python widget add layers.
 */
import { IGlobe } from '@espri-vre/core';
import {
  ILayoutRestorer,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, WidgetTracker } from '@jupyterlab/apputils';
import { ILauncher } from '@jupyterlab/launcher';
import { IJupyterWidgetRegistry } from '@jupyter-widgets/base';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import type { ColormapName } from './colormap';
import type { GlobeWidget } from './globe-widget';
import { globeIcon } from './icons';
import { parseLayerSources } from './layer-sources';
import { RestorableGlobeService } from './restorable-service';
import {
  GlobeModel,
  GlobeView,
  MODULE_NAME,
  MODULE_VERSION,
  setWidgetTranslations
} from './widget';

export { GlobeWidget, GLOBE_ID } from './globe-widget';
export { GlobeService } from './service';
export type { IGlobeClick, ICamera, IGlobeLayer } from './globe-widget';
export * from './layer-data';
export * from './colormap';
export { decodeLayerMessage } from './widget-messages';

/**
 * The command ids of this package.
 */
export namespace CommandIDs {
  export const openGlobe = 'espri-vre:open-globe';
  export const addDemoPoints = 'espri-vre:globe-add-demo-points';
  export const addField = 'espri-vre:globe-add-field';
  export const flyTo = 'espri-vre:globe-fly-to';
  export const addFootprint = 'espri-vre:globe-add-footprint';
  export const addTrajectory = 'espri-vre:globe-add-trajectory';
  export const trajectoryAt = 'espri-vre:globe-trajectory-at';
  export const clock = 'espri-vre:globe-clock';
}

/** Stations on a Fibonacci spiral with a value that varies with latitude. */
function demoPoints(count: number): {
  lon: number[];
  lat: number[];
  values: number[];
} {
  const lon: number[] = [];
  const lat: number[] = [];
  const values: number[] = [];
  const golden = Math.PI * (3 - Math.sqrt(5));
  for (let i = 0; i < count; i++) {
    const y = 1 - (2 * (i + 0.5)) / count;
    const la = (Math.asin(y) * 180) / Math.PI;
    lat.push(la);
    lon.push((((i * golden * 180) / Math.PI) % 360) - 180);
    values.push(30 * Math.cos((la * Math.PI) / 180) - 5);
  }
  return { lon, lat, values };
}

const plugin: JupyterFrontEndPlugin<IGlobe> = {
  id: '@espri-vre/globe:plugin',
  description:
    'The CesiumJS globe, offline: fields, points, trajectories and footprints as layers.',
  autoStart: true,
  provides: IGlobe,
  optional: [ICommandPalette, ITranslator, ILayoutRestorer, ILauncher],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    translator: ITranslator | null,
    restorer: ILayoutRestorer | null,
    launcher: ILauncher | null
  ): IGlobe => {
    const trans = (translator ?? nullTranslator).load('espri_vre');
    const tracker = new WidgetTracker<GlobeWidget>({
      namespace: 'espri-vre-globe'
    });
    const service = new RestorableGlobeService(app, trans, tracker);

    app.commands.addCommand(CommandIDs.openGlobe, {
      label: args =>
        args['isLauncher'] ? trans.__('Globe') : trans.__('Open Globe'),
      caption: trans.__('Open the 3D globe (offline, CesiumJS)'),
      icon: args => (args['isLauncher'] ? globeIcon : undefined),
      execute: async args => {
        const widget = await service.open();
        // A reload passes the layers back: drawn again from their sources.
        for (const source of parseLayerSources(args['layers'])) {
          if (source.kind === 'footprint') {
            await service.addFootprint({ ...source.footprint, fly: false });
          } else if (source.kind === 'field') {
            await service.addField(source.field);
          } else {
            const layer = await widget.addPoints(
              trans.__('Demo stations'),
              demoPoints(source.count)
            );
            service.keep(layer, source);
          }
        }
      }
    });
    void restorer?.restore(tracker, {
      command: CommandIDs.openGlobe,
      name: () => 'globe',
      args: () => ({ layers: service.sources.toJSON() })
    });
    launcher?.add({
      command: CommandIDs.openGlobe,
      args: { isLauncher: true },
      category: trans.__('ESPRI VRE'),
      rank: 20
    });
    app.commands.addCommand(CommandIDs.addDemoPoints, {
      label: trans.__('Add Demo Points to the Globe'),
      caption: trans.__('Show 1,000 stations with made-up values on the globe'),
      execute: async args => {
        const widget = await service.open();
        const count = typeof args.count === 'number' ? args.count : 1000;
        const layer = await widget.addPoints(
          trans.__('Demo stations'),
          demoPoints(count)
        );
        service.keep(layer, { kind: 'demo-points', count });
        return layer.id;
      }
    });
    // For tests and the command line: a regular lat/lon field given as JSON
    // arguments (lon, lat, values with null for missing, title, colormap, min, max).
    // Other extensions call IGlobe.addField.
    app.commands.addCommand(CommandIDs.addField, {
      label: trans.__('Add a Field to the Globe'),
      execute: async args => {
        const layer = await service.addField({
          title: String(args.title ?? trans.__('Field')),
          lon: (args.lon ?? []) as number[],
          lat: (args.lat ?? []) as number[],
          values: (args.values ?? []) as (number | null)[],
          colormap: args.colormap as ColormapName | undefined,
          min: args.min as number | undefined,
          max: args.max as number | undefined
        });
        return layer.id;
      }
    });
    app.commands.addCommand(CommandIDs.flyTo, {
      label: trans.__('Fly the Globe to a Box'),
      execute: async args => {
        await service.open();
        service.flyTo(args as unknown as IGlobe.IBoundingBox);
      }
    });
    // For tests and the command line: a footprint as boxes (`boxes`, or one box as
    // `west`, `south`, `east`, `north`) and polygons (`polygons`: rings of
    // [lon, lat]); `title`, `color`, `fly` (default true). Returns the layer id.
    // Other extensions call IGlobe.addFootprint.
    app.commands.addCommand(CommandIDs.addFootprint, {
      label: trans.__('Add a Footprint to the Globe'),
      execute: async args => {
        const layer = await service.addFootprint({
          title: String(args.title ?? trans.__('Footprint')),
          boxes: Array.isArray(args.boxes)
            ? (args.boxes as unknown as IGlobe.IBoundingBox[])
            : typeof args.west === 'number'
              ? [args as unknown as IGlobe.IBoundingBox]
              : [],
          polygons: (args.polygons ?? []) as [number, number][][],
          color: args.color as string | undefined,
          fly: args.fly !== false
        });
        return layer.id;
      }
    });
    // A track moving with the clock: `lon`, `lat`, `time` (ISO strings or epoch
    // milliseconds), optional `height`, `title`, `color`. Returns the layer id.
    app.commands.addCommand(CommandIDs.addTrajectory, {
      label: trans.__('Add a Trajectory to the Globe'),
      execute: async args => {
        const widget = await service.open();
        const layer = await widget.addTrajectory(
          String(args.title ?? trans.__('Trajectory')),
          {
            lon: args.lon as number[],
            lat: args.lat as number[],
            time: args.time as (string | number)[],
            height: args.height as number[] | undefined
          },
          { color: args.color as string | undefined }
        );
        return layer.id;
      }
    });
    // Where a trajectory's point is (`layerId`, `time` ISO or the clock's time).
    app.commands.addCommand(CommandIDs.trajectoryAt, {
      label: trans.__('Where a Trajectory Is'),
      execute: async args => {
        const widget = await service.open();
        return widget.trajectoryPosition(
          String(args.layerId),
          typeof args.time === 'string' ? new Date(args.time) : undefined
        );
      }
    });
    // The clock: `time` (ISO), `multiplier`, `play`.
    app.commands.addCommand(CommandIDs.clock, {
      label: trans.__('Set the Globe Clock'),
      execute: async args => {
        const widget = await service.open();
        widget.setClock({
          time: typeof args.time === 'string' ? new Date(args.time) : undefined,
          multiplier:
            typeof args.multiplier === 'number' ? args.multiplier : undefined,
          play: typeof args.play === 'boolean' ? args.play : undefined
        });
      }
    });
    palette?.addItem({ command: CommandIDs.openGlobe, category: 'ESPRI VRE' });
    palette?.addItem({
      command: CommandIDs.addDemoPoints,
      category: 'ESPRI VRE'
    });
    return service;
  }
};

/**
 * The front end of the Python widget `espri_vre.globe.Globe`, registered when
 * the Jupyter widgets manager (jupyterlab_widgets) is installed.
 */
const widgetPlugin: JupyterFrontEndPlugin<void> = {
  id: '@espri-vre/globe:widget',
  description: 'The front end of the Python Globe widget (ipywidgets 8).',
  autoStart: true,
  optional: [IJupyterWidgetRegistry, ITranslator],
  activate: (
    _app: JupyterFrontEnd,
    registry: IJupyterWidgetRegistry | null,
    translator: ITranslator | null
  ): void => {
    if (!registry) {
      return;
    }
    setWidgetTranslations((translator ?? nullTranslator).load('espri_vre'));
    registry.registerWidget({
      name: MODULE_NAME,
      version: MODULE_VERSION,
      exports: { GlobeModel, GlobeView }
    });
  }
};

export default [plugin, widgetPlugin];
