import type { Message } from '@lumino/messaging';
import { type ISignal, Signal } from '@lumino/signaling';
import type { Widget } from '@lumino/widgets';

/**
 * Calls `tick` when a widget becomes visible and every `seconds` while it stays
 * visible; stops, and calls `onHide`, when it is hidden, detached or the poll is
 * disposed. The panels of the suite refresh their lists this way, so that a hidden
 * panel costs the server nothing.
 *
 * The widget hands the poll its messages from `processMessage` (after Lumino's own
 * handling, so that `isVisible` is up to date). A message hook would spare that one
 * line, but hooks live in `MessageLoop`'s module state, of which a bundle or a test
 * runner may load two copies (one per module format): forwarding cannot miss.
 */
export class VisiblePoll {
  constructor(options: VisiblePoll.IOptions) {
    this._widget = options.widget;
    this._tick = options.tick;
    this._onHide = options.onHide;
    this._seconds = Math.max(0, options.seconds ?? 0);
    if (this._widget.isVisible) {
      this._start();
    }
  }

  /** Seconds between two ticks while visible; 0 ticks only when the widget is shown. */
  get seconds(): number {
    return this._seconds;
  }
  set seconds(seconds: number) {
    this._seconds = Math.max(0, seconds);
    if (this._visible) {
      this._schedule();
    }
  }

  /**
   * Emitted on each tick, after `tick` is called: for a view that mounts after the
   * widget is made (a React component holding the data in its state).
   */
  get ticked(): ISignal<this, VisiblePoll.Reason> {
    return this._ticked;
  }

  /** Whether the widget is visible, as the poll last saw it. */
  get visible(): boolean {
    return this._visible;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    const wasVisible = this._visible;
    this._stop();
    this._disposed = true;
    if (wasVisible) {
      this._onHide?.();
    }
    Signal.clearData(this);
  }

  /**
   * Follow the widget's visibility: call it from the widget's `processMessage`, after
   * `super.processMessage(msg)`.
   */
  processMessage(msg: Message): void {
    if (this._disposed) {
      return;
    }
    switch (msg.type) {
      case 'after-show':
      case 'after-attach':
        if (this._widget.isVisible) {
          this._start();
        }
        break;
      case 'before-hide':
      case 'before-detach':
        if (this._visible) {
          this._stop();
          this._onHide?.();
        }
        break;
    }
  }

  private _start(): void {
    if (this._visible || this._disposed) {
      return;
    }
    this._visible = true;
    this._run('show');
    this._schedule();
  }

  private _schedule(): void {
    this._clearTimer();
    if (this._seconds > 0) {
      this._timer = setInterval(() => {
        // A slow answer is not asked for again before it arrives.
        if (!this._running) {
          this._run('interval');
        }
      }, this._seconds * 1000);
    }
  }

  private _run(reason: VisiblePoll.Reason): void {
    let result: void | PromiseLike<unknown>;
    try {
      result = this._tick?.(reason);
    } catch (error) {
      console.error('VisiblePoll: a tick failed', error);
      return;
    }
    this._ticked.emit(reason);
    if (result && typeof result.then === 'function') {
      this._running = true;
      const done = (): void => {
        this._running = false;
      };
      result.then(done, done);
    }
  }

  private _stop(): void {
    this._visible = false;
    this._clearTimer();
  }

  private _clearTimer(): void {
    if (this._timer !== null) {
      clearInterval(this._timer);
      this._timer = null;
    }
  }

  private readonly _widget: Widget;
  private readonly _tick: VisiblePoll.IOptions['tick'];
  private readonly _ticked = new Signal<this, VisiblePoll.Reason>(this);
  private readonly _onHide: (() => void) | undefined;
  private _seconds: number;
  private _visible = false;
  private _running = false;
  private _disposed = false;
  private _timer: ReturnType<typeof setInterval> | null = null;
}

export namespace VisiblePoll {
  /** `show`: the widget has just become visible; `interval`: it stayed visible. */
  export type Reason = 'show' | 'interval';

  export interface IOptions {
    widget: Widget;
    /**
     * What to do on each tick. While the promise it returns is pending, interval
     * ticks are skipped.
     */
    tick?: (reason: Reason) => void | PromiseLike<unknown>;
    /** Seconds between two ticks while visible; 0 (the default) ticks only on show. */
    seconds?: number;
    /** Called when the widget stops being visible: cancel the request under way. */
    onHide?: () => void;
  }
}
