/**
 * The table of a dataset's variables: dimensions, shape, type, long name and units;
 * a row chosen with the mouse or the keyboard selects its variable.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';
import type { VariableInfo } from './axes';

export function VariableTable(props: {
  variables: readonly VariableInfo[];
  trans: TranslationBundle;
  selected: string;
  onSelect: (name: string) => void;
}): JSX.Element {
  const { trans } = props;
  return (
    <table className="jp-EspriVre-previewVariables">
      <thead>
        <tr>
          <th>{trans.__('Variable')}</th>
          <th>{trans.__('Dimensions')}</th>
          <th>{trans.__('Shape')}</th>
          <th>{trans.__('Type')}</th>
          <th>{trans.__('Long name')}</th>
          <th>{trans.__('Units')}</th>
        </tr>
      </thead>
      <tbody>
        {props.variables.map(v => (
          <tr
            key={v.name}
            className={
              v.name === props.selected ? 'jp-mod-selected' : undefined
            }
            aria-selected={v.name === props.selected}
            tabIndex={0}
            onClick={() => props.onSelect(v.name)}
            onKeyDown={e => {
              if (e.key === 'Enter' || e.key === ' ') {
                props.onSelect(v.name);
              }
            }}
          >
            <td>{v.name}</td>
            <td>{v.dims.join(', ')}</td>
            <td>{v.shape.join(' × ')}</td>
            <td>{v.dtype}</td>
            <td>{String(v.attrs.long_name ?? '')}</td>
            <td>{String(v.attrs.units ?? '')}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
