import type { PipelineRun, PipelineStep } from '@espri-vre/core';
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import { useFollowedList } from './followed-list';
import { jobKey, stateBadge } from './job-view';
import type { JobService } from './service';

/** A step's box in the graph, in pixels. */
const BOX = { width: 132, height: 36, gapX: 36, gapY: 14 };

/** At most how often the pipelines are asked for again while the panel refreshes (ms). */
const PIPELINES_INTERVAL = 10000;

/** Where a step is drawn: its column is its depth (the longest chain of steps before it). */
export interface IStepBox {
  step: PipelineStep;
  x: number;
  y: number;
}

/**
 * The layout of a pipeline's graph: one column per depth, the steps of a column one under
 * the other in the run's order; the drawing's width and height.
 */
export function layoutPipeline(steps: readonly PipelineStep[]): {
  boxes: IStepBox[];
  width: number;
  height: number;
} {
  const depth = new Map<string, number>();
  // The server gives the steps in dependency order: each one's parents are placed first.
  for (const step of steps) {
    const parents = step.after.map(id => depth.get(id) ?? 0);
    depth.set(step.id, parents.length ? Math.max(...parents) + 1 : 0);
  }
  const rows = new Map<number, number>();
  const boxes = steps.map(step => {
    const column = depth.get(step.id) ?? 0;
    const row = rows.get(column) ?? 0;
    rows.set(column, row + 1);
    return {
      step,
      x: column * (BOX.width + BOX.gapX),
      y: row * (BOX.height + BOX.gapY)
    };
  });
  const columns = Math.max(0, ...depth.values()) + 1;
  const tallest = Math.max(1, ...rows.values());
  return {
    boxes,
    width: columns * BOX.width + (columns - 1) * BOX.gapX,
    height: tallest * BOX.height + (tallest - 1) * BOX.gapY
  };
}

/**
 * A pipeline run drawn as a graph, each step with its state; a step's box opens its job.
 */
export function PipelineGraph(props: {
  run: PipelineRun;
  trans: TranslationBundle;
  onShowJob: (key: string) => void;
}): React.ReactElement {
  const { run, trans } = props;
  const { boxes, width, height } = layoutPipeline(run.steps);
  const at = new Map(boxes.map(b => [b.step.id, b]));
  return (
    <svg
      className="jp-EspriVre-pipelineGraph"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="group"
      aria-label={trans.__('Steps of %1', run.name)}
    >
      {boxes.flatMap(box =>
        box.step.after.map(parent => {
          const from = at.get(parent);
          return from ? (
            <line
              key={`${parent}-${box.step.id}`}
              className="jp-EspriVre-pipelineEdge"
              x1={from.x + BOX.width}
              y1={from.y + BOX.height / 2}
              x2={box.x}
              y2={box.y + BOX.height / 2}
            />
          ) : null;
        })
      )}
      {boxes.map(({ step, x, y }) => {
        const badge = stateBadge(step.state, trans);
        return (
          <g
            key={step.id}
            className="jp-EspriVre-pipelineStep"
            data-step={step.id}
            data-state={step.state}
            data-tone={badge.tone}
            transform={`translate(${x} ${y})`}
            tabIndex={0}
            role="button"
            aria-label={trans.__('Step %1: %2', step.id, badge.label)}
            onClick={() =>
              props.onShowJob(
                jobKey({ cluster: step.cluster, id: step.job_id })
              )
            }
            onKeyDown={event => {
              if (event.key === 'Enter') {
                props.onShowJob(
                  jobKey({ cluster: step.cluster, id: step.job_id })
                );
              }
            }}
          >
            <title>{step.reason ?? badge.label}</title>
            <rect width={BOX.width} height={BOX.height} rx={4} />
            <text x={8} y={15}>
              {step.id}
            </text>
            <text x={8} y={29} className="jp-EspriVre-pipelineState">
              {badge.label}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

const readRuns = (service: JobService, signal: AbortSignal) =>
  service.pipelineRuns(signal);

/**
 * The Pipelines section of the Jobs panel: the last runs, each drawn as its graph. A
 * pipeline is run from a `*.pipeline.yaml` file ("Run Pipeline").
 */
export function PipelinesSection(props: {
  service: JobService;
  trans: TranslationBundle;
  onShowJob: (key: string) => void;
}): React.ReactElement {
  const { service, trans } = props;
  const { value: runs, error } = useFollowedList(
    service,
    readRuns,
    PIPELINES_INTERVAL
  );
  if (!runs?.length && !error) {
    return <></>;
  }
  return (
    <details className="jp-EspriVre-pipelines" open>
      <summary className="jp-EspriVre-sectionHeading">
        {trans.__('Pipelines (%1)', runs?.length ?? 0)}
      </summary>
      {error && (
        <p role="alert" className="jp-EspriVre-error">
          {trans.__('The pipelines could not be listed: %1', error)}
        </p>
      )}
      {runs?.map(run => (
        <section
          key={run.id}
          className="jp-EspriVre-pipelineRun"
          data-run-id={run.id}
          data-state={run.state}
        >
          <p className="jp-EspriVre-pipelineTitle">
            {run.name} · <code>{run.path}</code> ·{' '}
            {new Date(run.created_at * 1000).toLocaleString()}
          </p>
          <PipelineGraph run={run} trans={trans} onShowJob={props.onShowJob} />
        </section>
      ))}
    </details>
  );
}
