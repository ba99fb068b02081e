import { createHash } from 'node:crypto';

/** A point on the map, in degrees. */
export interface Position {
  lat: number;
  lng: number;
}

/** The rectangle orders are delivered in: `south,west,north,east` in degrees. */
export interface CityBox {
  south: number;
  west: number;
  north: number;
  east: number;
}

/**
 * A number in [0, 1) that depends only on `seed`: the simulator's choices (reject or not, which
 * courier, where an address is) come from here, so a journey is the same on every replica and after
 * every restart.
 */
export function seededUnit(seed: string): number {
  return createHash('sha256').update(seed).digest().readUInt32BE(0) / 2 ** 32;
}

/** The middle of the box: where the kitchen is. */
export function centreOf(box: CityBox): Position {
  return { lat: (box.south + box.north) / 2, lng: (box.west + box.east) / 2 };
}

/** A made-up but stable position for an address inside the box (the same address, the same place). */
export function positionFor(address: string, box: CityBox): Position {
  const key = address.trim().toLowerCase();
  return {
    lat: round(box.south + seededUnit(`lat:${key}`) * (box.north - box.south)),
    lng: round(box.west + seededUnit(`lng:${key}`) * (box.east - box.west)),
  };
}

const EARTH_RADIUS_M = 6_371_000;
const rad = (degrees: number) => (degrees * Math.PI) / 180;

/** Great-circle distance in metres (haversine). */
export function distanceMeters(a: Position, b: Position): number {
  const dLat = rad(b.lat - a.lat);
  const dLng = rad(b.lng - a.lng);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLng / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Initial compass bearing from `a` to `b`, 0..360 degrees (0 is north). */
export function bearingDegrees(a: Position, b: Position): number {
  const y = Math.sin(rad(b.lng - a.lng)) * Math.cos(rad(b.lat));
  const x =
    Math.cos(rad(a.lat)) * Math.sin(rad(b.lat)) -
    Math.sin(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.cos(rad(b.lng - a.lng));
  const degrees = (Math.atan2(y, x) * 180) / Math.PI;
  return round((degrees + 360) % 360, 1);
}

/**
 * A street-like route: along the kitchen's meridian to the destination's latitude, then along that
 * parallel to the destination (two legs, like a grid of streets). Legs of zero length are dropped.
 */
export class Route {
  readonly legs: readonly { from: Position; to: Position; meters: number }[];
  readonly meters: number;

  constructor(
    readonly from: Position,
    to: Position,
  ) {
    const corner = { lat: to.lat, lng: from.lng };
    this.legs = [
      { from, to: corner },
      { from: corner, to },
    ]
      .map((leg) => ({ ...leg, meters: distanceMeters(leg.from, leg.to) }))
      .filter((leg) => leg.meters > 0);
    this.meters = this.legs.reduce((sum, leg) => sum + leg.meters, 0);
  }

  /** Where a courier is after `meters` along the route, and which way it faces. */
  at(meters: number): Position & { heading: number } {
    let left = Math.max(0, meters);
    for (const leg of this.legs) {
      if (left <= leg.meters) {
        const f = left / leg.meters;
        return {
          lat: round(leg.from.lat + (leg.to.lat - leg.from.lat) * f),
          lng: round(leg.from.lng + (leg.to.lng - leg.from.lng) * f),
          heading: bearingDegrees(leg.from, leg.to),
        };
      }
      left -= leg.meters;
    }
    const last = this.legs[this.legs.length - 1];
    if (!last) return { ...this.from, heading: 0 };
    return { ...last.to, heading: bearingDegrees(last.from, last.to) };
  }
}

// Six decimals is about 10 cm: plenty for a courier, and stable text in the stream.
function round(value: number, digits = 6): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
