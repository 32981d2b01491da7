/**
 * Pinned records: kept in the user's settings (`pins` of `@espri-vre/catalog:panel`),
 * so that they survive reloads and follow the user. Pure helpers; the plugin reads and
 * writes the setting.
 */

/** A pinned record, as stored in the settings. */
export interface Pin {
  catalog_id: string;
  id: string;
  title: string;
  /** The code that opens it, when there was one. */
  code?: string;
  /** When it was pinned (ISO 8601). */
  pinned: string;
}

/** At most this many pins are kept; the oldest go first. */
export const MAX_PINS = 500;

function isPin(value: unknown): value is Pin {
  const pin = value as Partial<Pin> | null;
  return (
    typeof pin === 'object' &&
    pin !== null &&
    typeof pin.catalog_id === 'string' &&
    typeof pin.id === 'string' &&
    typeof pin.title === 'string' &&
    typeof pin.pinned === 'string' &&
    (pin.code === undefined || typeof pin.code === 'string')
  );
}

/** The pins of a setting value, leaving out entries that are not pins. */
export function readPins(value: unknown): Pin[] {
  return Array.isArray(value) ? value.filter(isPin) : [];
}

export function isPinned(
  pins: readonly Pin[],
  catalogId: string,
  id: string
): boolean {
  return pins.some(pin => pin.catalog_id === catalogId && pin.id === id);
}

/** The pins with `pin` removed when it was there (by catalogue and id), added otherwise. */
export function togglePin(pins: readonly Pin[], pin: Pin): Pin[] {
  if (isPinned(pins, pin.catalog_id, pin.id)) {
    return pins.filter(
      item => !(item.catalog_id === pin.catalog_id && item.id === pin.id)
    );
  }
  return [...pins, pin].slice(-MAX_PINS);
}
