/**
 * intake-esm's query values as patterns: which values it treats as regular
 * expressions, and those expressions as JavaScript `RegExp`s.
 *
 * intake-esm (`intake_esm/_search.py`) calls a value a pattern when, once the escaped
 * `\*`, `\?`, `\$`, `\^` are removed, it still holds one of `* ? $ ^`; such a value is
 * searched with pandas' `str.contains(value, regex=True, case=True)`, i.e. anywhere in
 * the cell, case-sensitively. Any other value must equal the cell. intake-esm reads
 * its table into pyarrow-backed pandas columns, so the expression is run by RE2
 * (`pyarrow.compute.match_substring_regex`), not by Python's `re`: the translation
 * below keeps RE2's meaning and refuses what RE2 refuses (lookaround,
 * backreferences), so a search never finds rows that intake-esm would not.
 */

/** A query value that cannot be searched the way intake-esm would. */
export class IntakeQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IntakeQueryError';
  }
}

// A fixed order: intake-esm iterates a Python set, whose order only matters for
// contrived values such as '\\$*'.
const WILDCARDS = ['*', '?', '$', '^'];

/** Whether intake-esm treats `value` as a regular expression rather than a literal. */
export function isPattern(value: unknown): value is string {
  if (typeof value !== 'string') {
    return false;
  }
  let rest = value;
  for (const char of WILDCARDS) {
    rest = rest.split(`\\${char}`).join('');
  }
  return WILDCARDS.some(char => rest.includes(char));
}

const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f'
};

function unsupported(pattern: string, what: string): IntakeQueryError {
  return new IntakeQueryError(
    `"${pattern}" cannot be searched: ${what} (intake-esm's regular expressions are RE2's, which have none).`
  );
}

/**
 * The `RegExp` that finds what intake-esm's `str.contains(pattern, regex=True,
 * case=True)` finds. RE2-only syntax is translated: leading inline flags `(?i)`,
 * `(?s)`, `(?m)`; named groups `(?P<name>...)`; `\A` and `\z`; POSIX classes such as
 * `[[:digit:]]`.
 *
 * @throws IntakeQueryError for an invalid expression, and for lookaround,
 *   backreferences, `\Z` and Unicode classes, which RE2 refuses or this translation
 *   cannot render.
 */
export function compilePattern(pattern: string): RegExp {
  let at = 0;
  let flags = '';
  const inline = /^\(\?([imsU]+)\)/.exec(pattern);
  if (inline) {
    if (inline[1].includes('U')) {
      throw unsupported(
        pattern,
        'the ungreedy flag (?U) has no JavaScript form'
      );
    }
    flags = Array.from(new Set(inline[1])).join('');
    at = inline[0].length;
  }
  let out = '';
  let inClass = false;
  while (at < pattern.length) {
    const char = pattern[at];
    if (char === '\\') {
      const next = pattern[at + 1];
      if (next === undefined) {
        throw new IntakeQueryError(
          `"${pattern}" is not a valid regular expression: it ends with a lone backslash.`
        );
      }
      if (!inClass && /[1-9]/.test(next)) {
        throw unsupported(pattern, 'it uses a backreference');
      }
      if (next === 'Z') {
        throw unsupported(pattern, '\\Z is not an RE2 anchor (use \\z or $)');
      }
      if (next === 'p' || next === 'P') {
        throw unsupported(
          pattern,
          'Unicode classes (\\p) are not supported here'
        );
      }
      if (!inClass && next === 'A') {
        out += '^';
      } else if (!inClass && next === 'z') {
        out += '$';
      } else {
        out += char + next;
      }
      at += 2;
      continue;
    }
    if (inClass) {
      if (char === '[' && pattern[at + 1] === ':') {
        const end = pattern.indexOf(':]', at + 2);
        const name = end < 0 ? '' : pattern.slice(at + 2, end);
        const range = POSIX_CLASSES[name];
        if (range === undefined) {
          throw new IntakeQueryError(
            `"${pattern}" is not a valid regular expression: unknown character class "[:${name}:]".`
          );
        }
        out += range;
        at = end + 2;
        continue;
      }
      if (char === ']') {
        inClass = false;
      }
      out += char;
      at += 1;
      continue;
    }
    if (char === '[') {
      inClass = true;
      out += '[';
      at += 1;
      if (pattern[at] === '^') {
        out += '^';
        at += 1;
      }
      // A ']' first in a class is a literal in RE2 and an empty class in JavaScript.
      if (pattern[at] === ']') {
        out += '\\]';
        at += 1;
      }
      continue;
    }
    if (char === '(' && pattern[at + 1] === '?') {
      const head = pattern.slice(at, at + 4);
      if (/^\(\?(=|!|<=|<!)/.test(head)) {
        throw unsupported(pattern, 'it uses lookaround');
      }
      if (head === '(?P=') {
        throw unsupported(pattern, 'it uses a backreference');
      }
      if (head === '(?P<') {
        out += '(?<';
        at += 4;
        continue;
      }
    }
    out += char;
    at += 1;
  }
  try {
    return new RegExp(out, flags);
  } catch (error) {
    throw new IntakeQueryError(
      `"${pattern}" is not a valid regular expression (${
        error instanceof Error ? error.message : String(error)
      }).`
    );
  }
}
