import { isAbortError, type JobInfo } from '@espri-vre/core';
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import { isFinished } from './job-view';
import { findMatches, isAtEnd, splitByMatches, stepMatch } from './log-search';
import type { JobService } from './service';

/** How often a running job's log is read again, in milliseconds. */
const LOG_INTERVAL = 2000;

/**
 * A job's log, read from the byte offset the last read ended at, until the job has
 * finished and the whole file is read; shown in a viewer that follows new lines (until
 * the user scrolls up), searches (case-insensitive, matches highlighted and stepped
 * through) and wraps long lines or not.
 */
export function LogTail(props: {
  job: JobInfo;
  stream: 'stdout' | 'stderr';
  service: JobService;
  trans: TranslationBundle;
}): React.ReactElement {
  const { job, stream, service, trans } = props;
  const [text, setText] = React.useState('');
  const [note, setNote] = React.useState(trans.__('Reading the log…'));
  // Read in the loop without restarting it (and losing the text) when the job ends.
  const finished = React.useRef(isFinished(job.state));
  finished.current = isFinished(job.state);
  const cluster = job.cluster ?? '';
  const id = job.id;

  React.useEffect(() => {
    const controller = new AbortController();
    let offset = 0;
    const read = async (): Promise<void> => {
      while (!controller.signal.aborted) {
        const wasFinished = finished.current;
        try {
          const chunk = await service.logs(
            cluster,
            id,
            stream,
            offset,
            controller.signal
          );
          if (chunk.text) {
            setText(previous => previous + chunk.text);
          }
          offset = chunk.next_offset;
          const complete = chunk.next_offset >= chunk.size;
          if (!chunk.exists) {
            setNote(
              wasFinished
                ? trans.__('This job wrote no %1.', stream)
                : trans.__('The job has not written its %1 yet.', stream)
            );
          } else {
            setNote('');
          }
          if (wasFinished && complete) {
            return;
          }
          if (!complete) {
            continue;
          }
        } catch (reason) {
          if (isAbortError(reason)) {
            return;
          }
          setNote(
            trans.__(
              'The log could not be read: %1',
              reason instanceof Error ? reason.message : String(reason)
            )
          );
        }
        await new Promise(resolve => {
          const timer = window.setTimeout(resolve, LOG_INTERVAL);
          controller.signal.addEventListener('abort', () => {
            window.clearTimeout(timer);
            resolve(undefined);
          });
        });
      }
    };
    void read();
    return () => controller.abort();
  }, [service, cluster, id, stream, trans]);

  return (
    <div className="jp-EspriVre-logTail">
      {note && <p className="jp-EspriVre-logNote">{note}</p>}
      <LogViewer
        text={text}
        label={trans.__('%1 of job %2', stream, id)}
        stream={stream}
        trans={trans}
      />
    </div>
  );
}

/**
 * The viewer of a growing text: a toolbar (search, previous/next match, follow, wrap)
 * over the text. Exported for its tests, which drive it with texts of their own.
 */
export function LogViewer(props: {
  text: string;
  label: string;
  stream: string;
  trans: TranslationBundle;
}): React.ReactElement {
  const { text, label, stream, trans } = props;
  const [query, setQuery] = React.useState('');
  const [current, setCurrent] = React.useState(-1);
  const [follow, setFollow] = React.useState(true);
  const [wrap, setWrap] = React.useState(true);
  const pre = React.useRef<HTMLPreElement>(null);

  const matches = React.useMemo(() => findMatches(text, query), [text, query]);
  const pieces = React.useMemo(
    () => splitByMatches(text, matches),
    [text, matches]
  );
  // New lines may add matches after the current one; a shorter list (a new query)
  // starts again at the first.
  const shown =
    current >= 0 && current < matches.length
      ? current
      : stepMatch(-1, matches.length, 1);

  // Follow: keep the end in view while lines arrive, unless a match is being looked at.
  React.useLayoutEffect(() => {
    const node = pre.current;
    if (node && follow && !query) {
      node.scrollTop = node.scrollHeight;
    }
  }, [text, follow, query, wrap]);

  React.useLayoutEffect(() => {
    const mark = pre.current?.querySelector<HTMLElement>(
      'mark[data-current="true"]'
    );
    // jsdom has no layout (nor scrollIntoView): the tests check the marked match.
    mark?.scrollIntoView?.({ block: 'nearest' });
  }, [shown, query]);

  const step = (by: number): void => {
    setCurrent(stepMatch(shown, matches.length, by));
  };

  return (
    <div className="jp-EspriVre-logViewer">
      <div
        className="jp-EspriVre-logToolbar"
        role="toolbar"
        aria-label={trans.__('Log viewer')}
      >
        <input
          type="search"
          className="jp-EspriVre-logSearch jp-mod-styled"
          placeholder={trans.__('Search the log')}
          aria-label={trans.__('Search the log')}
          value={query}
          onChange={event => {
            setQuery(event.target.value);
            setCurrent(-1);
          }}
          onKeyDown={event => {
            if (event.key === 'Enter') {
              event.preventDefault();
              step(event.shiftKey ? -1 : 1);
            }
          }}
        />
        <span className="jp-EspriVre-logMatches" role="status">
          {query
            ? matches.length
              ? trans.__('%1 of %2', shown + 1, matches.length)
              : trans.__('No match')
            : ''}
        </span>
        <button
          type="button"
          className="jp-mod-styled jp-EspriVre-logPrevious"
          disabled={!matches.length}
          onClick={() => step(-1)}
        >
          {trans.__('Previous')}
        </button>
        <button
          type="button"
          className="jp-mod-styled jp-EspriVre-logNext"
          disabled={!matches.length}
          onClick={() => step(1)}
        >
          {trans.__('Next')}
        </button>
        <button
          type="button"
          className="jp-mod-styled jp-EspriVre-logFollow"
          aria-pressed={follow}
          title={trans.__('Keep the last lines in view as the job writes them')}
          onClick={() => setFollow(!follow)}
        >
          {trans.__('Follow')}
        </button>
        <button
          type="button"
          className="jp-mod-styled jp-EspriVre-logWrap"
          aria-pressed={wrap}
          title={trans.__('Wrap long lines')}
          onClick={() => setWrap(!wrap)}
        >
          {trans.__('Wrap')}
        </button>
      </div>
      <pre
        ref={pre}
        className="jp-EspriVre-jobLog"
        data-stream={stream}
        data-wrap={wrap}
        tabIndex={0}
        aria-label={label}
        onScroll={event => {
          // Scrolling up stops following; scrolling back to the end follows again.
          const atEnd = isAtEnd(event.currentTarget);
          if (atEnd !== follow) {
            setFollow(atEnd);
          }
        }}
      >
        {pieces.map((piece, index) =>
          piece.match === undefined ? (
            <React.Fragment key={index}>{piece.text}</React.Fragment>
          ) : (
            <mark
              key={index}
              className="jp-EspriVre-logMatch"
              data-current={piece.match === shown}
            >
              {piece.text}
            </mark>
          )
        )}
      </pre>
    </div>
  );
}
