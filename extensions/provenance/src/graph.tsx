import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import type { IGraph } from './model';

const ROW = 28;
const CELL_X = 8;
const CELL_W = 260;
const FILE_X = 420;
const FILE_W = 220;
const BOX_H = 20;

/**
 * The read/write graph as SVG: cells in recorded order on the left, files on the right at
 * the height of the first cell that touched them; an arrow from a cell to each file it wrote
 * and from each file to the cells that read it. Two fixed columns need no layout library
 * (a general DAG layout such as dagre would reorder the cells, which must stay in time order).
 */
export function ReadWriteGraph(props: {
  graph: IGraph;
  trans: TranslationBundle;
  onCell?: (order: number) => void;
}): React.ReactElement {
  const { graph, trans } = props;
  const cellY = new Map<number, number>();
  graph.cells.forEach((c, i) => cellY.set(c.order, 8 + i * ROW));
  const fileY = new Map<string, number>();
  let next = 8;
  for (const c of graph.cells) {
    for (const e of graph.edges) {
      const location = e.kind === 'read' ? e.from.slice(5) : e.to.slice(5);
      const cell = e.kind === 'read' ? e.to : e.from;
      if (cell === `cell:${c.order}` && !fileY.has(location)) {
        const y = Math.max(next, cellY.get(c.order) ?? 0);
        fileY.set(location, y);
        next = y + ROW;
      }
    }
  }
  const height = Math.max(graph.cells.length * ROW, next, ROW) + 16;
  const yOf = (id: string): number =>
    (id.startsWith('cell:')
      ? cellY.get(Number(id.slice(5)))
      : fileY.get(id.slice(5))) ?? 0;
  if (graph.cells.length === 0) {
    return <p>{trans.__('No cell has run in this recording yet.')}</p>;
  }
  return (
    <svg
      className="jp-EspriVre-provGraph"
      width={FILE_X + FILE_W + 8}
      height={height}
      role="img"
      aria-label={trans.__('Which cell read what another wrote')}
    >
      <defs>
        <marker
          id="espri-vre-arrow"
          viewBox="0 0 10 10"
          refX="9"
          refY="5"
          markerWidth="6"
          markerHeight="6"
          orient="auto-start-reverse"
        >
          <path d="M 0 0 L 10 5 L 0 10 z" className="jp-EspriVre-provArrow" />
        </marker>
      </defs>
      {graph.edges.map(e => {
        const y1 = yOf(e.from) + BOX_H / 2;
        const y2 = yOf(e.to) + BOX_H / 2;
        const [x1, x2] =
          e.kind === 'write'
            ? [CELL_X + CELL_W, FILE_X]
            : [FILE_X, CELL_X + CELL_W];
        const mid = (x1 + x2) / 2;
        return (
          <path
            key={`${e.from}>${e.to}`}
            className={`jp-EspriVre-provEdge jp-mod-${e.kind}`}
            data-from={e.from}
            data-to={e.to}
            d={`M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}`}
            markerEnd="url(#espri-vre-arrow)"
          />
        );
      })}
      {graph.cells.map(c => (
        <g
          key={c.order}
          className={`jp-EspriVre-provNode jp-mod-cell jp-mod-${c.status}`}
          data-node={`cell:${c.order}`}
          transform={`translate(${CELL_X}, ${cellY.get(c.order)})`}
          onClick={() => props.onCell?.(c.order)}
        >
          <rect width={CELL_W} height={BOX_H} rx={3} />
          <text x={6} y={14}>
            {`[${c.order}] ${c.label}`}
          </text>
        </g>
      ))}
      {graph.files.map(f => (
        <g
          key={f.location}
          className={`jp-EspriVre-provNode jp-mod-file${f.input ? ' jp-mod-input' : ''}${f.output ? ' jp-mod-output' : ''}`}
          data-node={`file:${f.location}`}
          transform={`translate(${FILE_X}, ${fileY.get(f.location)})`}
        >
          <title>{f.location}</title>
          <rect width={FILE_W} height={BOX_H} rx={10} />
          <text x={8} y={14}>
            {f.name}
          </text>
        </g>
      ))}
    </svg>
  );
}
