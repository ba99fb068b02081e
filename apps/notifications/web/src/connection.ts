import type { ConnectionState } from '@choreo/realtime-client';

/** What the connection indicator shows. */
export type Indicator = 'connecting' | 'live' | 'reconnecting' | 'resumed' | 'closed';

export interface ConnectionView {
  indicator: Indicator;
  /** Connections lost and resumed since the page loaded. */
  resumes: number;
  /** The close code of the last drop, for the tooltip. */
  lastCode?: number;
}

/**
 * The indicator after a client state change: a connection made after a drop is `resumed` (every
 * subscription resumes from the last offset it applied) until `settle()` turns it back to `live`.
 */
export function nextView(view: ConnectionView, state: ConnectionState, code?: number): ConnectionView {
  switch (state) {
    case 'connected':
      return view.indicator === 'reconnecting'
        ? { ...view, indicator: 'resumed', resumes: view.resumes + 1 }
        : { ...view, indicator: 'live' };
    case 'reconnecting':
      return { ...view, indicator: 'reconnecting', lastCode: code ?? view.lastCode };
    case 'closed':
      return { ...view, indicator: 'closed', lastCode: code ?? view.lastCode };
    default:
      return { ...view, indicator: view.indicator === 'reconnecting' ? 'reconnecting' : 'connecting' };
  }
}

export function settle(view: ConnectionView): ConnectionView {
  return view.indicator === 'resumed' ? { ...view, indicator: 'live' } : view;
}
