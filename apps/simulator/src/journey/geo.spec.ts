import { centreOf, distanceMeters, positionFor, Route, seededUnit } from './geo';

const box = { south: 48.85, west: 2.34, north: 48.868, east: 2.367 };

describe('geo', () => {
  it('seeds the same number from the same text, and spreads different texts over [0, 1)', () => {
    expect(seededUnit('a')).toBe(seededUnit('a'));
    const values = Array.from({ length: 1000 }, (_, i) => seededUnit(`order-${i}`));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });

  it('places an address inside the box, the same place whatever its case or padding', () => {
    const here = positionFor('12 Rue de Rivoli', box);
    expect(positionFor('  12 rue de rivoli ', box)).toEqual(here);
    expect(positionFor('13 Rue de Rivoli', box)).not.toEqual(here);
    for (let i = 0; i < 200; i++) {
      const p = positionFor(`${i} Loop Road`, box);
      expect(p.lat).toBeGreaterThanOrEqual(box.south);
      expect(p.lat).toBeLessThanOrEqual(box.north);
      expect(p.lng).toBeGreaterThanOrEqual(box.west);
      expect(p.lng).toBeLessThanOrEqual(box.east);
    }
  });

  it('measures distances like a map does', () => {
    // One degree of latitude is about 111.2 km.
    expect(distanceMeters({ lat: 48, lng: 2 }, { lat: 49, lng: 2 })).toBeCloseTo(111_195, -2);
    expect(distanceMeters(centreOf(box), centreOf(box))).toBe(0);
  });

  it('walks a two-leg route: north or south first, then east or west, ending at the destination', () => {
    const from = { lat: 48.85, lng: 2.34 };
    const to = { lat: 48.86, lng: 2.35 };
    const route = new Route(from, to);
    expect(route.legs).toHaveLength(2);
    expect(route.meters).toBeCloseTo(route.legs[0].meters + route.legs[1].meters, 6);
    expect(route.at(0)).toEqual({ ...from, heading: 0 });
    const corner = route.at(route.legs[0].meters);
    expect(corner.lat).toBeCloseTo(to.lat, 6);
    expect(corner.lng).toBeCloseTo(from.lng, 6);
    const halfway = route.at(route.legs[0].meters + route.legs[1].meters / 2);
    expect(halfway.lat).toBeCloseTo(to.lat, 6);
    expect(halfway.lng).toBeCloseTo(2.345, 6);
    expect(halfway.heading).toBeCloseTo(90, 0);
    expect(route.at(route.meters + 100)).toMatchObject(to);
  });

  it('has a route of no length when the address is at the kitchen', () => {
    const here = { lat: 48.86, lng: 2.35 };
    const route = new Route(here, here);
    expect(route.meters).toBe(0);
    expect(route.at(0)).toEqual({ ...here, heading: 0 });
  });
});
