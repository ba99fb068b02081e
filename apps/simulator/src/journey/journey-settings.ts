import type { CityBox } from './geo';

/** How journeys play: every delay is divided by `speed`. */
export interface JourneySettings {
  /** Play speed: 10 plays a journey ten times faster. */
  speed: number;
  /** Share of orders the kitchen rejects, 0..1. */
  rejectRate: number;
  /** order.created → kitchen.accepted (or kitchen.rejected). */
  acceptDelayMs: number;
  /** order.confirmed → kitchen.started. */
  startDelayMs: number;
  /** order.preparing → kitchen.ready (cooking). */
  cookDelayMs: number;
  /** order.ready → courier.assigned. */
  assignDelayMs: number;
  /** courier.assigned → courier.picked_up. */
  pickupDelayMs: number;
  /** Arrival at the address → courier.delivered. */
  handoverDelayMs: number;
  /** A courier.location fix this often while delivering. */
  locationIntervalMs: number;
  courierSpeedMps: number;
  /** Orders are delivered inside this box; the kitchen is its centre. */
  cityBox: CityBox;
  /** Size of the courier pool couriers are drawn from (courier-1 … courier-N). */
  couriers: number;
  kitchenId: string;
}

/** The defaults: a journey of about 30–50 s at speed 1, in a box of about 2 × 2 km. */
export const DEFAULT_JOURNEY_SETTINGS: JourneySettings = {
  speed: 1,
  rejectRate: 0.05,
  acceptDelayMs: 1_000,
  startDelayMs: 2_000,
  cookDelayMs: 6_000,
  assignDelayMs: 2_000,
  pickupDelayMs: 4_000,
  handoverDelayMs: 1_000,
  locationIntervalMs: 3_000,
  courierSpeedMps: 40,
  cityBox: { south: 48.85, west: 2.34, north: 48.868, east: 2.367 },
  couriers: 25,
  kitchenId: 'kitchen-1',
};
