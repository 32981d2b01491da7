/**
 * CF conventions decoding: packed values, missing values and time coordinates.
 *
 * zarrita returns the stored numbers; xarray's decoding is what users compare
 * against, so this follows xarray (and cftime for calendars).
 */

/** The attributes of a variable as its metadata holds them. */
export type Attributes = Record<string, unknown>;

/**
 * Decode a variable's stored values: values equal to `_FillValue` or
 * `missing_value`, or outside `valid_range`/`valid_min`/`valid_max`, become NaN; the
 * others are `value * scale_factor + add_offset`.
 *
 * @param raw - The stored values.
 * @param attrs - The variable's attributes.
 * @param storeFill - The Zarr `fill_value`, which kerchunk and xarray use as
 *   `_FillValue` when the attribute itself is absent.
 */
export function decodeValues(
  raw: ArrayLike<number | bigint>,
  attrs: Attributes,
  storeFill: unknown = null
): Float64Array {
  const missing = missingValues(attrs, storeFill);
  const { min, max } = validLimits(attrs);
  const scale = numberAttr(attrs.scale_factor) ?? 1;
  const offset = numberAttr(attrs.add_offset) ?? 0;
  const checkNaN = missing.some(Number.isNaN);
  const out = new Float64Array(raw.length);
  // A NaN stays NaN whatever the attributes say, so only the other missing values are
  // compared; with at most two of them (a _FillValue as written and as float32), a
  // loop without a call per value (a map slice has a million values).
  const plain = missing.filter(m => !Number.isNaN(m));
  if (plain.length <= 2 && typeof raw[0] !== 'bigint') {
    const values = raw as ArrayLike<number>;
    const [m0 = NaN, m1 = NaN] = plain;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      out[i] =
        v === m0 || v === m1 || v < min || v > max ? NaN : v * scale + offset;
    }
    return out;
  }
  for (let i = 0; i < raw.length; i++) {
    const v = Number(raw[i]);
    if (
      missing.includes(v) ||
      (checkNaN && Number.isNaN(v)) ||
      v < min ||
      v > max
    ) {
      out[i] = NaN;
    } else {
      out[i] = v * scale + offset;
    }
  }
  return out;
}

/**
 * The stored values that mean "missing", each both as written and rounded to
 * float32 (a float32 variable's `1e20` is stored as 1.0000000200408773e20).
 */
export function missingValues(attrs: Attributes, storeFill: unknown): number[] {
  const values: number[] = [];
  const fill = attrs._FillValue !== undefined ? attrs._FillValue : storeFill;
  for (const candidate of [fill, attrs.missing_value]) {
    for (const v of Array.isArray(candidate) ? candidate : [candidate]) {
      const n = numberAttr(v);
      if (n !== undefined) {
        values.push(n, Math.fround(n));
      }
    }
  }
  return values;
}

function validLimits(attrs: Attributes): { min: number; max: number } {
  let min = -Infinity;
  let max = Infinity;
  if (Array.isArray(attrs.valid_range) && attrs.valid_range.length === 2) {
    min = numberAttr(attrs.valid_range[0]) ?? min;
    max = numberAttr(attrs.valid_range[1]) ?? max;
  }
  min = numberAttr(attrs.valid_min) ?? min;
  max = numberAttr(attrs.valid_max) ?? max;
  return { min, max };
}

/**
 * The `_FillValue` attribute of a Zarr v3 array as xarray reads it: xarray writes a
 * float array's fill value as the base64 text of a little-endian float64 (its
 * `FillValueCoder`, since JSON has no NaN), other types as they are.
 */
export function decodeZarrV3FillValue(value: unknown, dtype: string): unknown {
  if (!/^float/.test(dtype) || typeof value !== 'string') {
    return value;
  }
  let text: string;
  try {
    text = atob(value);
  } catch {
    return value;
  }
  if (text.length !== 8) {
    return value;
  }
  const bytes = Uint8Array.from(text, c => c.charCodeAt(0));
  return new DataView(bytes.buffer).getFloat64(0, true);
}

/** A number from an attribute value (Zarr JSON writes NaN and Infinity as strings). */
export function numberAttr(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return value;
  }
  if (typeof value === 'bigint') {
    return Number(value);
  }
  if (value === 'NaN') {
    return NaN;
  }
  if (value === 'Infinity') {
    return Infinity;
  }
  if (value === '-Infinity') {
    return -Infinity;
  }
  if (Array.isArray(value) && value.length === 1) {
    return numberAttr(value[0]);
  }
  return undefined;
}

/** A date in a CF calendar, to the second. */
export interface CFDate {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The calendars of CF 1.x that cftime knows, by their canonical names. */
export type Calendar =
  | 'standard'
  | 'proleptic_gregorian'
  | 'noleap'
  | 'all_leap'
  | '360_day'
  | 'julian';

const CALENDAR_ALIASES: Record<string, Calendar> = {
  standard: 'standard',
  gregorian: 'standard',
  proleptic_gregorian: 'proleptic_gregorian',
  noleap: 'noleap',
  '365_day': 'noleap',
  all_leap: 'all_leap',
  '366_day': 'all_leap',
  '360_day': '360_day',
  julian: 'julian'
};

/** The canonical calendar for a `calendar` attribute (CF's default is standard). */
export function parseCalendar(value: unknown): Calendar {
  const name = typeof value === 'string' ? value.trim().toLowerCase() : '';
  if (name === '') {
    return 'standard';
  }
  const calendar = CALENDAR_ALIASES[name];
  if (!calendar) {
    throw new Error(`The calendar "${String(value)}" is not a CF calendar.`);
  }
  return calendar;
}

const UNIT_SECONDS: Record<string, number> = {
  microseconds: 1e-6,
  microsecond: 1e-6,
  us: 1e-6,
  milliseconds: 1e-3,
  millisecond: 1e-3,
  ms: 1e-3,
  seconds: 1,
  second: 1,
  secs: 1,
  sec: 1,
  s: 1,
  minutes: 60,
  minute: 60,
  mins: 60,
  min: 60,
  hours: 3600,
  hour: 3600,
  hrs: 3600,
  hr: 3600,
  h: 3600,
  days: 86400,
  day: 86400,
  d: 86400
};

/** Time units parsed: the length of one unit in seconds and the reference date. */
export interface TimeUnits {
  seconds: number;
  reference: CFDate;
}

const UNITS_RE =
  /^\s*(\w+)\s+since\s+([+-]?\d{1,6})-(\d{1,2})-(\d{1,2})(?:[T\s]+(\d{1,2}):(\d{1,2})(?::(\d{1,2}(?:\.\d*)?))?)?\s*(?:Z|UTC|[+-]00(?::?00)?)?\s*$/i;

/** Whether `units` are CF time units ("days since 2000-01-01"). */
export function isTimeUnits(units: unknown): boolean {
  return typeof units === 'string' && /\ssince\s/i.test(units);
}

/** Parse "<unit> since <date>[ <time>]". */
export function parseTimeUnits(units: string): TimeUnits {
  const m = UNITS_RE.exec(units);
  const seconds = m ? UNIT_SECONDS[m[1].toLowerCase()] : undefined;
  if (!m || seconds === undefined) {
    throw new Error(
      `The time units "${units}" are not "<days|hours|minutes|seconds> since <date>".`
    );
  }
  return {
    seconds,
    reference: {
      year: Number(m[2]),
      month: Number(m[3]),
      day: Number(m[4]),
      hour: Number(m[5] ?? 0),
      minute: Number(m[6] ?? 0),
      second: Number(m[7] ?? 0)
    }
  };
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const MONTH_DAYS_LEAP = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Julian day number of the first day of the Gregorian calendar (1582-10-15). */
const GREGORIAN_START_JDN = 2299161;

/** A day count for the date in its calendar (consecutive days differ by one). */
export function dayNumber(
  year: number,
  month: number,
  day: number,
  calendar: Calendar
): number {
  switch (calendar) {
    case 'noleap':
      return fixedDayNumber(year, month, day, 365, MONTH_DAYS);
    case 'all_leap':
      return fixedDayNumber(year, month, day, 366, MONTH_DAYS_LEAP);
    case '360_day':
      return year * 360 + (month - 1) * 30 + day - 1;
    case 'proleptic_gregorian':
      return gregorianJdn(year, month, day);
    case 'julian':
      return julianJdn(year, month, day);
    case 'standard': {
      const jdn = gregorianJdn(year, month, day);
      return jdn >= GREGORIAN_START_JDN ? jdn : julianJdn(year, month, day);
    }
  }
}

/** The date of a day count made by {@link dayNumber}. */
export function fromDayNumber(
  n: number,
  calendar: Calendar
): Pick<CFDate, 'year' | 'month' | 'day'> {
  switch (calendar) {
    case 'noleap':
      return fromFixedDayNumber(n, 365, MONTH_DAYS);
    case 'all_leap':
      return fromFixedDayNumber(n, 366, MONTH_DAYS_LEAP);
    case '360_day': {
      const year = Math.floor(n / 360);
      const rest = n - year * 360;
      return {
        year,
        month: Math.floor(rest / 30) + 1,
        day: (rest % 30) + 1
      };
    }
    case 'proleptic_gregorian':
      return fromGregorianJdn(n);
    case 'julian':
      return fromJulianJdn(n);
    case 'standard':
      return n >= GREGORIAN_START_JDN ? fromGregorianJdn(n) : fromJulianJdn(n);
  }
}

function fixedDayNumber(
  year: number,
  month: number,
  day: number,
  length: number,
  months: number[]
): number {
  let n = year * length;
  for (let i = 0; i < month - 1; i++) {
    n += months[i];
  }
  return n + day - 1;
}

function fromFixedDayNumber(
  n: number,
  length: number,
  months: number[]
): Pick<CFDate, 'year' | 'month' | 'day'> {
  const year = Math.floor(n / length);
  let rest = n - year * length;
  let month = 0;
  while (rest >= months[month]) {
    rest -= months[month];
    month++;
  }
  return { year, month: month + 1, day: rest + 1 };
}

// Julian day numbers (Fliegel and Van Flandern; Richards' inverse), with
// astronomical year numbering.
function gregorianJdn(year: number, month: number, day: number): number {
  const a = Math.floor((14 - month) / 12);
  const y = year + 4800 - a;
  const m = month + 12 * a - 3;
  return (
    day +
    Math.floor((153 * m + 2) / 5) +
    365 * y +
    Math.floor(y / 4) -
    Math.floor(y / 100) +
    Math.floor(y / 400) -
    32045
  );
}

function julianJdn(year: number, month: number, day: number): number {
  const a = Math.floor((14 - month) / 12);
  const y = year + 4800 - a;
  const m = month + 12 * a - 3;
  return (
    day + Math.floor((153 * m + 2) / 5) + 365 * y + Math.floor(y / 4) - 32083
  );
}

function fromGregorianJdn(jdn: number): Pick<CFDate, 'year' | 'month' | 'day'> {
  const a = jdn + 32044;
  const b = Math.floor((4 * a + 3) / 146097);
  const c = a - Math.floor((146097 * b) / 4);
  return fromMarchYear(c, 100 * b - 4800);
}

function fromJulianJdn(jdn: number): Pick<CFDate, 'year' | 'month' | 'day'> {
  return fromMarchYear(jdn + 32082, -4800);
}

function fromMarchYear(
  c: number,
  base: number
): Pick<CFDate, 'year' | 'month' | 'day'> {
  const d = Math.floor((4 * c + 3) / 1461);
  const e = c - Math.floor((1461 * d) / 4);
  const m = Math.floor((5 * e + 2) / 153);
  return {
    year: base + d + Math.floor(m / 10),
    month: m + 3 - 12 * Math.floor(m / 10),
    day: e - Math.floor((153 * m + 2) / 5) + 1
  };
}

/**
 * The date of a time coordinate value, rounded to the second (as cftime's dates
 * are, for the units CMIP data uses).
 */
export function decodeTime(
  value: number,
  units: TimeUnits,
  calendar: Calendar
): CFDate {
  const ref = units.reference;
  const refSeconds =
    dayNumber(ref.year, ref.month, ref.day, calendar) * 86400 +
    ref.hour * 3600 +
    ref.minute * 60 +
    ref.second;
  const total = Math.round(refSeconds + value * units.seconds);
  const days = Math.floor(total / 86400);
  let rest = total - days * 86400;
  const date = fromDayNumber(days, calendar);
  const hour = Math.floor(rest / 3600);
  rest -= hour * 3600;
  const minute = Math.floor(rest / 60);
  return { ...date, hour, minute, second: rest - minute * 60 };
}

/** "2000-01-16 12:00:00", as cftime's `isoformat(' ')` writes it. */
export function formatDate(date: CFDate): string {
  const pad = (n: number, width = 2): string =>
    String(Math.abs(n)).padStart(width, '0');
  const year = (date.year < 0 ? '-' : '') + pad(date.year, 4);
  return (
    `${year}-${pad(date.month)}-${pad(date.day)} ` +
    `${pad(date.hour)}:${pad(date.minute)}:${pad(date.second)}`
  );
}

/** The names behind the values made by {@link textCoordinate}. */
const TEXT_LABELS = new WeakMap<ArrayLike<number>, readonly string[]>();

/**
 * The values of a coordinate of names (the ensemble members of a combined
 * dataset): their positions, which {@link coordinateLabels} labels with the names.
 */
export function textCoordinate(names: readonly string[]): Float64Array {
  const values = Float64Array.from(names, (_, i) => i);
  TEXT_LABELS.set(values, names);
  return values;
}

/**
 * Labels for a coordinate's values: dates for CF time coordinates, the names of a
 * coordinate of names, numbers with their units otherwise.
 */
export function coordinateLabels(
  values: ArrayLike<number>,
  attrs: Attributes
): string[] {
  const names = TEXT_LABELS.get(values);
  if (names) {
    return [...names];
  }
  const labels: string[] = [];
  if (isTimeUnits(attrs.units)) {
    const units = parseTimeUnits(attrs.units as string);
    const calendar = parseCalendar(attrs.calendar);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      labels.push(
        Number.isFinite(v) ? formatDate(decodeTime(v, units, calendar)) : '—'
      );
    }
    return labels;
  }
  const unit = typeof attrs.units === 'string' ? ` ${attrs.units}` : '';
  for (let i = 0; i < values.length; i++) {
    labels.push(`${+values[i].toPrecision(6)}${unit}`);
  }
  return labels;
}
