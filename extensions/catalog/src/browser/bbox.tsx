/**
 * A bbox drawn on a small map: an equirectangular graticule (no imagery, which would
 * have to come from the network) on which a drag draws the box, and four number
 * fields that show it and set it from the keyboard.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';
import type { BBox } from '../record';

const WIDTH = 240;
const HEIGHT = 120;

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/** Longitude and latitude of a point of the map, in pixels from its top left corner. */
export function mapToLonLat(x: number, y: number): [number, number] {
  const lon = Math.min(180, Math.max(-180, (x / WIDTH) * 360 - 180));
  const lat = Math.min(90, Math.max(-90, 90 - (y / HEIGHT) * 180));
  return [round(lon), round(lat)];
}

/** The bbox two corners span, west < east and south < north. */
export function boxOf(a: [number, number], b: [number, number]): BBox {
  return [
    Math.min(a[0], b[0]),
    Math.min(a[1], b[1]),
    Math.max(a[0], b[0]),
    Math.max(a[1], b[1])
  ];
}

function toX(lon: number): number {
  return ((lon + 180) / 360) * WIDTH;
}

function toY(lat: number): number {
  return ((90 - lat) / 180) * HEIGHT;
}

/**
 * The fields' text as a bbox, or a sentence saying what is wrong with it.
 */
export function readBBoxFields(
  fields: readonly string[],
  trans: TranslationBundle
): BBox | string {
  const values = fields.map(field => Number(field.trim()));
  if (fields.some(field => field.trim() === '') || values.some(isNaN)) {
    return trans.__('Give four numbers: west, south, east and north.');
  }
  const [west, south, east, north] = values;
  if (west < -180 || east > 180 || west > 180 || east < -180) {
    return trans.__('Longitudes lie between -180 and 180.');
  }
  if (south < -90 || north > 90 || south > north) {
    return trans.__(
      'Latitudes lie between -90 and 90, and south is not above north.'
    );
  }
  return [west, south, east, north];
}

export function BBoxPicker(props: {
  value: BBox | undefined;
  onChange: (value: BBox | undefined) => void;
  trans: TranslationBundle;
}): React.ReactElement {
  const { value, onChange, trans } = props;
  const [drag, setDrag] = React.useState<{
    from: [number, number];
    to: [number, number];
  } | null>(null);
  const [fields, setFields] = React.useState<string[]>(
    value ? value.map(String) : ['', '', '', '']
  );
  const [problem, setProblem] = React.useState<string | null>(null);
  React.useEffect(() => {
    setFields(value ? value.map(String) : ['', '', '', '']);
    setProblem(null);
  }, [value]);

  const point = (
    event: React.PointerEvent<SVGSVGElement>
  ): [number, number] => {
    const rect = event.currentTarget.getBoundingClientRect();
    const scaleX = rect.width > 0 ? WIDTH / rect.width : 1;
    const scaleY = rect.height > 0 ? HEIGHT / rect.height : 1;
    return mapToLonLat(
      (event.clientX - rect.left) * scaleX,
      (event.clientY - rect.top) * scaleY
    );
  };
  const shown = drag ? boxOf(drag.from, drag.to) : value;
  const labels = [
    trans.__('West'),
    trans.__('South'),
    trans.__('East'),
    trans.__('North')
  ];
  const apply = () => {
    const read = readBBoxFields(fields, trans);
    if (typeof read === 'string') {
      setProblem(read);
    } else {
      setProblem(null);
      onChange(read);
    }
  };
  return (
    <fieldset className="jp-EspriVre-bbox">
      <legend>{trans.__('Area')}</legend>
      <svg
        className="jp-EspriVre-bboxMap"
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={trans.__(
          'Map: drag to draw the area to search in (or type its bounds below)'
        )}
        onPointerDown={event => {
          event.currentTarget.setPointerCapture?.(event.pointerId);
          const at = point(event);
          setDrag({ from: at, to: at });
        }}
        onPointerMove={event => {
          if (drag) {
            setDrag({ from: drag.from, to: point(event) });
          }
        }}
        onPointerUp={event => {
          if (drag) {
            const box = boxOf(drag.from, point(event));
            setDrag(null);
            if (box[2] - box[0] >= 1 && box[3] - box[1] >= 1) {
              onChange(box);
            }
          }
        }}
      >
        {[-120, -60, 0, 60, 120].map(lon => (
          <line
            key={`lon${lon}`}
            x1={toX(lon)}
            x2={toX(lon)}
            y1={0}
            y2={HEIGHT}
            strokeWidth={lon === 0 ? 0.8 : 0.4}
          />
        ))}
        {[-60, -30, 0, 30, 60].map(lat => (
          <line
            key={`lat${lat}`}
            x1={0}
            x2={WIDTH}
            y1={toY(lat)}
            y2={toY(lat)}
            strokeWidth={lat === 0 ? 0.8 : 0.4}
          />
        ))}
        {shown && (
          <rect
            className="jp-EspriVre-bboxRect"
            x={toX(shown[0])}
            y={toY(shown[3])}
            width={Math.max(1, toX(shown[2]) - toX(shown[0]))}
            height={Math.max(1, toY(shown[1]) - toY(shown[3]))}
          />
        )}
      </svg>
      <div className="jp-EspriVre-bboxFields">
        {labels.map((label, at) => (
          <label key={label}>
            <span className="jp-EspriVre-boundLabel">{label}</span>
            <input
              type="text"
              inputMode="decimal"
              className="jp-mod-styled jp-EspriVre-bboxField"
              data-bound={['west', 'south', 'east', 'north'][at]}
              value={fields[at]}
              onChange={event => {
                const next = [...fields];
                next[at] = event.target.value;
                setFields(next);
              }}
              onKeyDown={event => {
                if (event.key === 'Enter') {
                  event.preventDefault();
                  apply();
                }
              }}
            />
          </label>
        ))}
      </div>
      <div className="jp-EspriVre-bboxButtons">
        <button
          type="button"
          className="jp-mod-styled jp-EspriVre-bboxApply"
          onClick={apply}
        >
          {trans.__('Set area')}
        </button>
        {value && (
          <button
            type="button"
            className="jp-mod-styled jp-EspriVre-bboxClear"
            onClick={() => onChange(undefined)}
          >
            {trans.__('Any area')}
          </button>
        )}
      </div>
      {problem && (
        <p role="alert" className="jp-EspriVre-bboxProblem">
          {problem}
        </p>
      )}
    </fieldset>
  );
}
