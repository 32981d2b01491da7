// @vitest-environment jsdom
import type { Message } from '@lumino/messaging';
import { BoxPanel, Widget } from '@lumino/widgets';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { VisiblePoll } from '../src/poll';

/** A panel as the suite's panels are: it hands its messages to its poll. */
class Panel extends Widget {
  poll: VisiblePoll | null = null;
  seen: string[] = [];

  processMessage(msg: Message): void {
    super.processMessage(msg);
    this.poll?.processMessage(msg);
  }

  protected onAfterShow(): void {
    this.seen.push(`show:${this.isVisible}`);
  }

  protected onBeforeHide(): void {
    this.seen.push('hide');
  }
}

describe('VisiblePoll', () => {
  let host: HTMLElement;
  beforeEach(() => {
    vi.useFakeTimers();
    host = document.createElement('div');
    document.body.appendChild(host);
  });
  afterEach(() => {
    vi.useRealTimers();
    host.remove();
  });

  function poll(
    widget: Panel,
    seconds: number,
    tick: (reason: VisiblePoll.Reason) => void | Promise<unknown> = () =>
      undefined
  ): { poll: VisiblePoll; ticks: VisiblePoll.Reason[]; hidden: number[] } {
    const ticks: VisiblePoll.Reason[] = [];
    const hidden: number[] = [];
    const made = new VisiblePoll({
      widget,
      seconds,
      tick: reason => {
        ticks.push(reason);
        return tick(reason);
      },
      onHide: () => hidden.push(ticks.length)
    });
    widget.poll = made;
    return { poll: made, ticks, hidden };
  }

  it('ticks when the widget is attached, then every interval while visible', () => {
    const widget = new Panel();
    const { ticks } = poll(widget, 5);
    vi.advanceTimersByTime(20000);
    expect(ticks).toEqual([]);
    Widget.attach(widget, host);
    expect(ticks).toEqual(['show']);
    vi.advanceTimersByTime(4999);
    expect(ticks).toEqual(['show']);
    vi.advanceTimersByTime(1);
    expect(ticks).toEqual(['show', 'interval']);
    vi.advanceTimersByTime(10000);
    expect(ticks).toEqual(['show', 'interval', 'interval', 'interval']);
  });

  it('stops when hidden, calls onHide once, and ticks again when shown', () => {
    const widget = new Panel();
    Widget.attach(widget, host);
    const { ticks, hidden } = poll(widget, 2);
    expect(ticks).toEqual(['show']);
    widget.hide();
    expect(hidden).toEqual([1]);
    vi.advanceTimersByTime(60000);
    expect(ticks).toEqual(['show']);
    widget.hide();
    expect(hidden).toEqual([1]);
    widget.show();
    expect(ticks).toEqual(['show', 'show']);
    vi.advanceTimersByTime(2000);
    expect(ticks).toEqual(['show', 'show', 'interval']);
  });

  it('does not tick for a widget shown inside a hidden parent', () => {
    const parent = new BoxPanel();
    parent.hide();
    Widget.attach(parent, host);
    const child = new Panel();
    const { ticks } = poll(child, 1);
    parent.addWidget(child);
    vi.advanceTimersByTime(5000);
    expect(ticks).toEqual([]);
    parent.show();
    expect(ticks).toEqual(['show']);
  });

  it('stops and calls onHide when detached or disposed', () => {
    const widget = new Panel();
    Widget.attach(widget, host);
    const { poll: made, ticks, hidden } = poll(widget, 1);
    Widget.detach(widget);
    expect(hidden).toEqual([1]);
    vi.advanceTimersByTime(5000);
    expect(ticks).toEqual(['show']);
    Widget.attach(widget, host);
    expect(ticks).toEqual(['show', 'show']);
    made.dispose();
    expect(hidden).toEqual([1, 2]);
    expect(made.isDisposed).toBe(true);
    vi.advanceTimersByTime(5000);
    widget.hide();
    widget.show();
    expect(ticks).toEqual(['show', 'show']);
  });

  it('skips interval ticks while the last tick is pending', async () => {
    const widget = new Panel();
    Widget.attach(widget, host);
    let finish: () => void = () => undefined;
    const { ticks } = poll(
      widget,
      1,
      () =>
        new Promise<void>(resolve => {
          finish = resolve;
        })
    );
    vi.advanceTimersByTime(3000);
    expect(ticks).toEqual(['show']);
    finish();
    await Promise.resolve();
    await Promise.resolve();
    vi.advanceTimersByTime(1000);
    expect(ticks).toEqual(['show', 'interval']);
  });

  it('with 0 seconds ticks only when shown; a new interval applies at once', () => {
    const widget = new Panel();
    Widget.attach(widget, host);
    const { poll: made, ticks } = poll(widget, 0);
    vi.advanceTimersByTime(60000);
    expect(ticks).toEqual(['show']);
    made.seconds = 3;
    expect(made.seconds).toBe(3);
    vi.advanceTimersByTime(3000);
    expect(ticks).toEqual(['show', 'interval']);
    made.seconds = -4;
    expect(made.seconds).toBe(0);
    vi.advanceTimersByTime(60000);
    expect(ticks).toEqual(['show', 'interval']);
  });

  it('leaves the widget its own message handling', () => {
    const widget = new Panel();
    Widget.attach(widget, host);
    poll(widget, 1);
    widget.hide();
    widget.show();
    expect(widget.seen).toEqual(['hide', 'show:true']);
  });

  it('emits ticked for each tick, with or without a tick callback', () => {
    const widget = new Panel();
    const made = new VisiblePoll({ widget, seconds: 1 });
    widget.poll = made;
    const heard: VisiblePoll.Reason[] = [];
    made.ticked.connect((_, reason) => heard.push(reason));
    Widget.attach(widget, host);
    vi.advanceTimersByTime(2000);
    expect(heard).toEqual(['show', 'interval', 'interval']);
    made.dispose();
    widget.show();
    vi.advanceTimersByTime(2000);
    expect(heard).toHaveLength(3);
  });
});
