/**
 * The globe's layers panel: one row per layer, top layer first, with its visibility,
 * order, removal, opacity and colour legend.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import { colorFor } from './colormap';
import type { IGlobeLayer, ILegend } from './globe-layers';

/** What the panel's controls do to a layer. */
export interface ILayerActions {
  setVisible: (id: string, visible: boolean) => void;
  setOpacity: (id: string, opacity: number) => void;
  /** +1 moves the layer up (drawn above the next), -1 down. */
  move: (id: string, delta: 1 | -1) => void;
  remove: (id: string) => void;
}

export class LayersPanel {
  constructor(trans: TranslationBundle, actions: ILayerActions) {
    this._trans = trans;
    this._actions = actions;
    this.node = document.createElement('ul');
    this.node.className = 'jp-EspriVre-globeLayers';
  }

  readonly node: HTMLUListElement;

  /** List `layers` (bottom first), top layer first as in every map application. */
  render(layers: readonly IGlobeLayer[]): void {
    const trans = this._trans;
    const actions = this._actions;
    const list = this.node;
    list.replaceChildren();
    const top = layers.length - 1;
    [...layers].reverse().forEach((layer, k) => {
      const position = top - k;
      const li = document.createElement('li');
      li.className = 'jp-EspriVre-globeLayer';
      li.dataset.layerId = layer.id;
      li.dataset.kind = layer.globeKind;

      const row = document.createElement('div');
      row.className = 'jp-EspriVre-globeLayerRow';

      const visible = document.createElement('input');
      visible.type = 'checkbox';
      visible.className = 'jp-EspriVre-globeLayerVisible';
      visible.checked = layer.visible;
      visible.title = trans.__('Show or hide');
      visible.setAttribute('aria-label', trans.__('Show %1', layer.title));
      visible.addEventListener('change', () =>
        actions.setVisible(layer.id, visible.checked)
      );

      const name = document.createElement('span');
      name.className = 'jp-EspriVre-globeLayerTitle';
      name.textContent = layer.title;
      name.title = layer.title;

      const button = (
        className: string,
        text: string,
        title: string,
        action: () => void,
        disabled = false
      ) => {
        const b = document.createElement('button');
        b.className = `${className} jp-mod-styled`;
        b.textContent = text;
        b.title = title;
        b.setAttribute('aria-label', title);
        b.disabled = disabled;
        b.addEventListener('click', action);
        return b;
      };
      const up = button(
        'jp-EspriVre-globeLayerUp',
        '↑',
        trans.__('Move the layer up'),
        () => actions.move(layer.id, 1),
        position === top
      );
      const down = button(
        'jp-EspriVre-globeLayerDown',
        '↓',
        trans.__('Move the layer down'),
        () => actions.move(layer.id, -1),
        position === 0
      );
      const remove = button(
        'jp-EspriVre-globeLayerRemove',
        '×',
        trans.__('Remove the layer'),
        () => actions.remove(layer.id)
      );
      row.append(visible, name, up, down, remove);

      const opacity = document.createElement('input');
      opacity.type = 'range';
      opacity.className = 'jp-EspriVre-globeLayerOpacity';
      opacity.min = '0';
      opacity.max = '1';
      opacity.step = '0.05';
      opacity.value = String(layer.opacity);
      opacity.title = trans.__('Opacity');
      opacity.setAttribute('aria-label', trans.__('Opacity'));
      opacity.addEventListener('input', () =>
        actions.setOpacity(layer.id, Number(opacity.value))
      );

      li.append(row, opacity);
      if (layer.legend) {
        li.appendChild(legendNode(layer.legend));
      }
      list.appendChild(li);
    });
  }

  private _trans: TranslationBundle;
  private _actions: ILayerActions;
}

function legendNode(legend: ILegend): HTMLElement {
  const node = document.createElement('div');
  node.className = 'jp-EspriVre-globeLegend';
  node.dataset.colormap = legend.colormap;
  node.dataset.min = String(legend.min);
  node.dataset.max = String(legend.max);
  const stops = [0, 0.25, 0.5, 0.75, 1].map(t => {
    const [r, g, b] = colorFor(t, 0, 1, legend.colormap);
    return `rgb(${r}, ${g}, ${b}) ${t * 100}%`;
  });
  const bar = document.createElement('div');
  bar.className = 'jp-EspriVre-globeLegendBar';
  bar.style.background = `linear-gradient(to right, ${stops.join(', ')})`;
  const format = (x: number) =>
    Number.isFinite(x) ? Number(x.toPrecision(4)).toString() : '–';
  const min = document.createElement('span');
  min.className = 'jp-EspriVre-globeLegendMin';
  min.textContent = format(legend.min);
  const max = document.createElement('span');
  max.className = 'jp-EspriVre-globeLegendMax';
  max.textContent = format(legend.max);
  node.append(min, bar, max);
  return node;
}
