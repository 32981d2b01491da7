// @vitest-environment jsdom
import { ToolbarWidgetRegistry } from '@jupyterlab/apputils';
import { nullTranslator } from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';
import { MessageLoop } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';
import {
  act,
  cleanup,
  fireEvent,
  render,
  screen,
  waitFor
} from '@testing-library/react';
import * as React from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import {
  findMatches,
  isAtEnd,
  splitByMatches,
  stepMatch
} from '../src/log-search';
import { jobsIcon } from '../src/icons';
import { LogViewer } from '../src/log-viewer';
import {
  addSubmitToolbarButton,
  SUBMIT_TOOLBAR_ITEM
} from '../src/toolbar-button';

const trans = nullTranslator.load('espri_vre');

// The shape of a job's stdout: lines written one after another, some repeating a word
// in different cases.
const LOG = [
  'Loading tas from /bdd/CMIP6/tas_Amon.nc',
  'WARNING: 12 missing values',
  'step 1/3 done',
  'warning: slow read',
  'step 2/3 done',
  'Step 3/3 done',
  ''
].join('\n');

afterEach(cleanup);

describe('the log search', () => {
  it('finds every match whatever its case, in order', () => {
    const matches = findMatches(LOG, 'warning');
    expect(matches.map(m => LOG.slice(m.start, m.end))).toEqual([
      'WARNING',
      'warning'
    ]);
    expect(findMatches(LOG, 'STEP').length).toBe(3);
    expect(findMatches(LOG, '')).toEqual([]);
    expect(findMatches(LOG, 'segfault')).toEqual([]);
  });

  it('does not overlap matches and keeps offsets after characters that change length', () => {
    expect(findMatches('aaaa', 'aa')).toEqual([
      { start: 0, end: 2 },
      { start: 2, end: 4 }
    ]);
    // 'İ' lower-cases to two code units: the match after it keeps its own offsets.
    const text = 'İ then Error';
    const [match] = findMatches(text, 'error');
    expect(text.slice(match.start, match.end)).toBe('Error');
  });

  it('steps through the matches, wrapping around both ends', () => {
    expect(stepMatch(-1, 3, 1)).toBe(0);
    expect(stepMatch(-1, 3, -1)).toBe(2);
    expect(stepMatch(2, 3, 1)).toBe(0);
    expect(stepMatch(0, 3, -1)).toBe(2);
    expect(stepMatch(0, 0, 1)).toBe(-1);
  });

  it('cuts the text into plain pieces and matches that join back to it', () => {
    const pieces = splitByMatches(LOG, findMatches(LOG, 'done'));
    expect(pieces.map(p => p.text).join('')).toBe(LOG);
    expect(pieces.filter(p => p.match !== undefined).map(p => p.match)).toEqual(
      [0, 1, 2]
    );
    expect(splitByMatches('', [])).toEqual([{ text: '' }]);
  });

  it('tells whether a box shows its end', () => {
    expect(
      isAtEnd({ scrollTop: 900, scrollHeight: 1000, clientHeight: 100 })
    ).toBe(true);
    expect(
      isAtEnd({ scrollTop: 899.5, scrollHeight: 1000, clientHeight: 100 })
    ).toBe(true);
    expect(
      isAtEnd({ scrollTop: 500, scrollHeight: 1000, clientHeight: 100 })
    ).toBe(false);
  });
});

/**
 * jsdom lays nothing out: give the log box the sizes of a box holding `lines` lines of
 * 10 pixels in 100 pixels, and a scroll position that keeps what is set.
 */
function layOut(pre: HTMLElement, lines: () => number): void {
  let top = 0;
  Object.defineProperties(pre, {
    clientHeight: { configurable: true, get: () => 100 },
    scrollHeight: { configurable: true, get: () => lines() * 10 },
    scrollTop: {
      configurable: true,
      get: () => top,
      set: (value: number) => {
        top = Math.max(0, Math.min(value, lines() * 10 - 100));
      }
    }
  });
}

function renderViewer(text: string) {
  const view = render(
    <LogViewer
      text={text}
      label="stdout of job 1"
      stream="stdout"
      trans={trans}
    />
  );
  const pre = view.container.querySelector<HTMLElement>(
    'pre.jp-EspriVre-jobLog'
  )!;
  return { ...view, pre };
}

describe('the log viewer', () => {
  it('highlights the matches and steps through them with Next, Previous and Enter', () => {
    const { pre } = renderViewer(LOG);
    const search = screen.getByRole('searchbox', { name: 'Search the log' });
    fireEvent.change(search, { target: { value: 'STEP' } });

    const marks = () => [...pre.querySelectorAll('mark.jp-EspriVre-logMatch')];
    expect(marks().map(m => m.textContent)).toEqual(['step', 'step', 'Step']);
    const current = () =>
      marks().findIndex(m => m.getAttribute('data-current') === 'true');
    expect(current()).toBe(0);
    expect(screen.getByRole('status').textContent).toBe('1 of 3');
    // The text itself is unchanged by the highlighting.
    expect(pre.textContent).toBe(LOG);

    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    expect(current()).toBe(1);
    fireEvent.keyDown(search, { key: 'Enter' });
    expect(current()).toBe(2);
    fireEvent.keyDown(search, { key: 'Enter' });
    expect(current()).toBe(0);
    fireEvent.click(screen.getByRole('button', { name: 'Previous' }));
    expect(current()).toBe(2);
    expect(screen.getByRole('status').textContent).toBe('3 of 3');

    fireEvent.change(search, { target: { value: 'segfault' } });
    expect(marks()).toEqual([]);
    expect(screen.getByRole('status').textContent).toBe('No match');
    expect(
      (screen.getByRole('button', { name: 'Next' }) as HTMLButtonElement)
        .disabled
    ).toBe(true);
  });

  it('follows new lines until the user scrolls up, and again from the end', () => {
    let text = LOG;
    const lines = () => text.split('\n').length;
    const { pre, rerender } = renderViewer(text);
    layOut(pre, lines);
    const follow = screen.getByRole('button', { name: 'Follow' });
    expect(follow.getAttribute('aria-pressed')).toBe('true');

    const grow = (more: number) => {
      text += Array.from({ length: more }, (_, i) => `line ${i}\n`).join('');
      rerender(
        <LogViewer
          text={text}
          label="stdout of job 1"
          stream="stdout"
          trans={trans}
        />
      );
    };
    grow(20);
    expect(pre.scrollTop).toBe(lines() * 10 - 100);

    // The user scrolls up: following stops, new lines leave the view where it is.
    pre.scrollTop = 40;
    fireEvent.scroll(pre);
    expect(follow.getAttribute('aria-pressed')).toBe('false');
    grow(5);
    expect(pre.scrollTop).toBe(40);

    // Back at the end: following again.
    pre.scrollTop = lines() * 10 - 100;
    fireEvent.scroll(pre);
    expect(follow.getAttribute('aria-pressed')).toBe('true');
    grow(5);
    expect(pre.scrollTop).toBe(lines() * 10 - 100);

    // The button stops and resumes following too; resuming goes to the end.
    fireEvent.click(follow);
    grow(5);
    expect(pre.scrollTop).toBe(lines() * 10 - 150);
    act(() => {
      fireEvent.click(follow);
    });
    expect(pre.scrollTop).toBe(lines() * 10 - 100);
  });

  it('wraps long lines or not', () => {
    const { pre } = renderViewer(LOG);
    const wrap = screen.getByRole('button', { name: 'Wrap' });
    expect(pre.getAttribute('data-wrap')).toBe('true');
    expect(wrap.getAttribute('aria-pressed')).toBe('true');
    fireEvent.click(wrap);
    expect(pre.getAttribute('data-wrap')).toBe('false');
    expect(wrap.getAttribute('aria-pressed')).toBe('false');
  });
});

describe('the notebook toolbar', () => {
  it('shows Submit as Job as a labelled button that runs the command', async () => {
    const commands = new CommandRegistry();
    const ran: unknown[] = [];
    commands.addCommand('espri-vre:submit-job', {
      label: args => (args['toolbar'] ? 'Submit as Job' : 'Other'),
      icon: jobsIcon,
      execute: args => {
        ran.push(args);
      }
    });
    const registry = new ToolbarWidgetRegistry({
      defaultFactory: () => new Widget()
    });
    addSubmitToolbarButton(registry, commands, 'espri-vre:submit-job');

    const button = registry.createWidget('Notebook', new Widget(), {
      name: SUBMIT_TOOLBAR_ITEM,
      command: 'espri-vre:submit-job'
    });
    Widget.attach(button, document.body);
    try {
      act(() => MessageLoop.sendMessage(button, Widget.Msg.UpdateRequest));
      const node = await waitFor(() => {
        const found = button.node.querySelector<HTMLElement>('jp-button');
        expect(found).not.toBeNull();
        return found!;
      });
      // The icon and, beside it, the label.
      expect(node.querySelector('svg')).not.toBeNull();
      expect(node.textContent).toBe('Submit as Job');
      fireEvent.click(node);
      expect(ran).toEqual([{ toolbar: true }]);
    } finally {
      button.dispose();
    }
  });
});
