import { describe, expect, it } from 'vitest';
import {
  coordinateLabels,
  decodeTime,
  decodeValues,
  formatDate,
  parseCalendar,
  parseTimeUnits
} from '../src/cf';
import { runPython } from './python';

const CALENDARS = [
  'standard',
  'gregorian',
  'proleptic_gregorian',
  'noleap',
  '365_day',
  '360_day',
  'all_leap'
];

const CASES: { units: string; offsets: number[] }[] = [
  {
    units: 'days since 2000-01-01',
    offsets: [0, 15.5, 59, 60, 365, 366, 1460.25, 36524, -1, -365.75, 10000.5]
  },
  {
    units: 'hours since 1850-01-01 00:00:00',
    offsets: [0, 6, 24 * 59, 24 * 60 + 3, 1e6, 1440 * 24 * 365 + 18]
  },
  {
    units: 'days since 1582-10-15',
    offsets: [-1, -11, -400, 0, 3]
  },
  {
    units: 'seconds since 1970-01-01T00:00:00Z',
    offsets: [0, 86399, 951782400, 1700000000, -86401]
  },
  { units: 'minutes since 2015-1-1 12:30', offsets: [0, 90, 525600 * 5 + 7] }
];

const CFTIME = `
import json, sys, cftime
cases = json.loads(sys.argv[1]); calendars = json.loads(sys.argv[2])
out = []
for case in cases:
    for cal in calendars:
        dates = cftime.num2date(case["offsets"], case["units"], calendar=cal)
        out.append([d.isoformat(" ") for d in dates])
print(json.dumps(out))
`;

describe('decodeTime', () => {
  it('gives the dates cftime gives in every CF calendar', () => {
    const expected = runPython<string[][]>(CFTIME, [
      JSON.stringify(CASES),
      JSON.stringify(CALENDARS)
    ]);
    const actual: string[][] = [];
    for (const c of CASES) {
      const units = parseTimeUnits(c.units);
      for (const cal of CALENDARS) {
        actual.push(
          c.offsets.map(v =>
            formatDate(decodeTime(v, units, parseCalendar(cal)))
          )
        );
      }
    }
    expect(actual).toEqual(expected);
  });

  it('labels the demo monthly noleap time axis from mid-January 2000', () => {
    expect(
      coordinateLabels([15.5, 45, 74.5, 380.5], {
        units: 'days since 2000-01-01',
        calendar: 'noleap'
      })
    ).toEqual([
      '2000-01-16 12:00:00',
      '2000-02-15 00:00:00',
      '2000-03-16 12:00:00',
      '2001-01-16 12:00:00'
    ]);
  });

  it('refuses units that are not "<unit> since <date>" and unknown calendars', () => {
    expect(() => parseTimeUnits('K')).toThrow(/not "<days/);
    expect(() => parseTimeUnits('fortnights since 2000-01-01')).toThrow();
    expect(() => parseCalendar('mayan')).toThrow(/not a CF calendar/);
    expect(parseCalendar(undefined)).toBe('standard');
  });
});

describe('decodeValues', () => {
  it('unpacks with scale_factor and add_offset', () => {
    const out = decodeValues(new Int16Array([0, 10, -10]), {
      scale_factor: 0.5,
      add_offset: 273.15
    });
    expect(Array.from(out)).toEqual([273.15, 278.15, 268.15]);
  });

  it('masks _FillValue, missing_value and values outside the valid range', () => {
    const out = decodeValues(new Int16Array([-999, -1, 5, 200, 7]), {
      _FillValue: -999,
      missing_value: [-1],
      valid_range: [0, 100],
      scale_factor: 2
    });
    expect(Array.from(out)).toEqual([NaN, NaN, 10, NaN, 14]);
  });

  it('masks the float32 rounding of a fill value given in double precision', () => {
    const out = decodeValues(new Float32Array([1e20, 280]), {}, 1e20);
    expect(Array.from(out)).toEqual([NaN, 280]);
  });

  it('masks NaN fills, 64-bit integers and several missing values alike', () => {
    expect(
      Array.from(
        decodeValues(new Float32Array([NaN, 1, 2, 3]), {
          _FillValue: NaN,
          missing_value: 2
        })
      )
    ).toEqual([NaN, 1, NaN, 3]);
    expect(
      Array.from(
        decodeValues(new BigInt64Array([1n, 5n, 7n]), {
          _FillValue: 5,
          scale_factor: 2
        })
      )
    ).toEqual([2, NaN, 14]);
    expect(
      Array.from(
        decodeValues(new Float64Array([1, 2, 3, 4]), {
          _FillValue: 1.1,
          missing_value: [2, 3]
        })
      )
    ).toEqual([1, NaN, NaN, 4]);
  });

  it('prefers the _FillValue attribute to the store fill value, and honours valid_min/max', () => {
    const out = decodeValues(
      new Float64Array([0, 1, 2, 3]),
      { _FillValue: 1, valid_min: 0.5, valid_max: 2.5 },
      0
    );
    expect(Array.from(out)).toEqual([NaN, NaN, 2, NaN]);
  });
});
