/**
 * The pure logic of the job log viewer (log-viewer.tsx): finding the matches of a
 * search, stepping through them, cutting the text into plain and highlighted pieces,
 * and telling whether the view is at its end (to follow new lines or stop following).
 */

/** One match of the search, as [start, end) offsets in the log's text. */
export interface ILogMatch {
  start: number;
  end: number;
}

/** One piece of the log's text; `match` is the index of the match it is, if any. */
export interface ILogPiece {
  text: string;
  match?: number;
}

/**
 * The matches of `query` in `text`, case-insensitive, without overlaps, in order.
 * An empty query matches nothing. Compared lower-cased piece by piece rather than
 * through a lower-cased copy of the text: a few characters change length when
 * lower-cased ('İ'), which would shift every offset after them.
 */
export function findMatches(text: string, query: string): ILogMatch[] {
  const matches: ILogMatch[] = [];
  if (!query) {
    return matches;
  }
  const needle = query.toLocaleLowerCase();
  const length = query.length;
  let from = 0;
  while (from + length <= text.length) {
    // A cheap scan for the first character's case variants, then a full check.
    const at = nextCandidate(text, needle[0], from);
    if (at < 0 || at + length > text.length) {
      break;
    }
    if (text.slice(at, at + length).toLocaleLowerCase() === needle) {
      matches.push({ start: at, end: at + length });
      from = at + length;
    } else {
      from = at + 1;
    }
  }
  return matches;
}

function nextCandidate(text: string, first: string, from: number): number {
  const lower = text.indexOf(first, from);
  const upperChar = first.toLocaleUpperCase();
  const upper = upperChar === first ? -1 : text.indexOf(upperChar, from);
  if (lower < 0) {
    return upper;
  }
  return upper < 0 ? lower : Math.min(lower, upper);
}

/**
 * The match shown after a step of `step` (+1 next, -1 previous) from `current`,
 * wrapping around at both ends; -1 when there is no match.
 */
export function stepMatch(
  current: number,
  count: number,
  step: number
): number {
  if (count <= 0) {
    return -1;
  }
  if (current < 0 || current >= count) {
    return step < 0 ? count - 1 : 0;
  }
  return (((current + step) % count) + count) % count;
}

/** The text cut into plain pieces and the matches, in order, for highlighting. */
export function splitByMatches(
  text: string,
  matches: ILogMatch[]
): ILogPiece[] {
  const pieces: ILogPiece[] = [];
  let at = 0;
  matches.forEach((match, index) => {
    if (match.start > at) {
      pieces.push({ text: text.slice(at, match.start) });
    }
    pieces.push({ text: text.slice(match.start, match.end), match: index });
    at = match.end;
  });
  if (at < text.length || !pieces.length) {
    pieces.push({ text: text.slice(at) });
  }
  return pieces;
}

/**
 * Whether a scrolled box shows its last line: within a pixel and a half of the end,
 * as browsers round scroll positions to device pixels.
 */
export function isAtEnd(box: {
  scrollTop: number;
  scrollHeight: number;
  clientHeight: number;
}): boolean {
  return box.scrollHeight - box.clientHeight - box.scrollTop <= 1.5;
}
