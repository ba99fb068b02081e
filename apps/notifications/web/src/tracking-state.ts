import type { PublicationFrame, SnapshotFrame, StreamPosition } from '@choreo/contracts';

/** One lifecycle event of the tracked order, as the page shows it. */
export interface TrackedStep {
  /** The order's sequence: the channel offset. */
  sequence: number;
  /** `order.confirmed` … */
  event: string;
  /** `confirmed` … */
  status: string;
  time: string;
}

export interface CourierFix {
  lat: number;
  lng: number;
  time: string;
}

/** What the page knows of the order it tracks; kept in localStorage so a reload resumes from it. */
export interface TrackingState {
  orderId: string;
  /** The tracking token from `POST /orders` (renewed before it expires). */
  token: string;
  total?: string;
  steps: TrackedStep[];
  /** The position a resume sends as `since`: the last step applied. */
  position?: StreamPosition;
  /** The courier's fixes, oldest first (bounded): the map draws the trail and the last one. */
  trail: CourierFix[];
}

const MAX_TRAIL = 200;

export function newTracking(orderId: string, token: string, total?: string): TrackingState {
  return { orderId, token, total, steps: [], trail: [] };
}

/** The order's current status: its last step's, or `placed` before the first one arrives. */
export function currentStatus(state: TrackingState): string {
  return state.steps.at(-1)?.status ?? 'placed';
}

export function statusOfEvent(event: string): string {
  return event.startsWith('order.') ? event.slice('order.'.length) : event;
}

/**
 * Applies one publication of `order:<id>`: a lifecycle step (it has an offset) or a courier fix (a
 * state publication without one). Steps are appended as the client delivers them, with no second
 * filter here: the client's promise (each step once, in order) is what the page shows, so a
 * duplicate or a gap would be visible on it, and the browser tests would see it.
 */
export function applyPublication(state: TrackingState, frame: PublicationFrame): TrackingState {
  if (frame.event === 'courier.location') {
    const fix = courierFix(frame);
    if (!fix) return state;
    return { ...state, trail: [...state.trail, fix].slice(-MAX_TRAIL) };
  }
  if (frame.offset === undefined) return state;
  const step: TrackedStep = {
    sequence: frame.offset,
    event: frame.event,
    status: statusOfEvent(frame.event),
    time: frame.time ?? new Date().toISOString(),
  };
  return {
    ...state,
    total: state.total ?? totalOf(frame.data),
    steps: [...state.steps, step],
    position: { offset: frame.offset, ...(frame.epoch ? { epoch: frame.epoch } : {}) },
  };
}

/** The order's read model (`recovered: false`): its timeline replaces what the page held. */
export function applySnapshot(state: TrackingState, frame: SnapshotFrame): TrackingState {
  const view = frame.data as { timeline?: unknown } | null;
  const timeline = Array.isArray(view?.timeline) ? (view.timeline as Record<string, unknown>[]) : [];
  const steps: TrackedStep[] = timeline
    .filter((entry) => typeof entry['sequence'] === 'number' && typeof entry['event'] === 'string')
    .map((entry) => ({
      sequence: entry['sequence'] as number,
      event: entry['event'] as string,
      status: statusOfEvent(entry['event'] as string),
      time: typeof entry['time'] === 'string' ? entry['time'] : '',
    }))
    .sort((a, b) => a.sequence - b.sequence);
  return {
    ...state,
    steps,
    position: { offset: frame.offset, epoch: frame.epoch },
  };
}

function courierFix(frame: PublicationFrame): CourierFix | undefined {
  const data = frame.data as { lat?: unknown; lng?: unknown } | null;
  if (typeof data?.lat !== 'number' || typeof data.lng !== 'number') return undefined;
  return { lat: data.lat, lng: data.lng, time: frame.time ?? new Date().toISOString() };
}

function totalOf(data: unknown): string | undefined {
  const total = (data as { total?: unknown } | null)?.total;
  return typeof total === 'string' || typeof total === 'number' ? String(total) : undefined;
}

const STORAGE_KEY = 'choreo.tracking';

/** Saves the tracked order (steps, position, token) so a reload resumes with nothing missed. */
export function saveTracking(storage: Storage, state: TrackingState | undefined): void {
  if (state) storage.setItem(STORAGE_KEY, JSON.stringify(state));
  else storage.removeItem(STORAGE_KEY);
}

export function loadTracking(storage: Storage): TrackingState | undefined {
  try {
    const state = JSON.parse(storage.getItem(STORAGE_KEY) ?? 'null') as TrackingState | null;
    if (!state || typeof state.orderId !== 'string' || !Array.isArray(state.steps)) return undefined;
    return { ...state, trail: Array.isArray(state.trail) ? state.trail : [] };
  } catch {
    return undefined;
  }
}
