import { useEffect, useState } from 'preact/hooks';
import { Channels, ORDER_LIFECYCLE } from '@choreo/contracts';
import type { RealtimeClient } from '@choreo/realtime-client';
import { CourierMap } from './courier-map';
import {
  applyPublication,
  applySnapshot,
  currentStatus,
  saveTracking,
  TrackingState,
} from './tracking-state';

const time = (iso: string) => (iso ? new Date(iso).toLocaleTimeString() : '');

/**
 * One order, live: its lifecycle with the time of each step, the current status and the courier on
 * the map. Subscribes from the position it holds, so a reload replays only what it missed.
 */
export function Tracking(props: { client: RealtimeClient; initial: TrackingState; onClose: () => void }) {
  const [state, setState] = useState(props.initial);
  const [problem, setProblem] = useState<string>();

  useEffect(() => {
    const subscription = props.client.subscribe(Channels.order(props.initial.orderId), {
      token: props.initial.token,
      since: props.initial.position,
      onPublication: (frame) => setState((s) => applyPublication(s, frame)),
      onSnapshot: (frame) => setState((s) => applySnapshot(s, frame)),
      onSubscribed: () => setProblem(undefined),
      onError: (error) => setProblem(`${error.code}: ${error.message}`),
    });
    return () => subscription.unsubscribe();
  }, [props.client, props.initial]);

  useEffect(() => saveTracking(localStorage, state), [state]);

  const status = currentStatus(state);
  const reached = new Map(state.steps.map((s) => [s.status, s]));
  const close = () => {
    saveTracking(localStorage, undefined);
    props.onClose();
  };

  return (
    <section class="tracking" data-order-id={state.orderId}>
      <h2>
        Order <code>{state.orderId.slice(0, 8)}</code>
        <span class={`status ${status}`} data-status={status}>
          {status.replace(/_/g, ' ')}
        </span>
        <button type="button" class="link" onClick={close}>
          close
        </button>
      </h2>
      {state.total && <p class="total">total {state.total}</p>}
      {problem && <p class="error">{problem}</p>}
      <ol class="lifecycle">
        {ORDER_LIFECYCLE.map((name) => (
          <li key={name} class={reached.has(name) ? 'done' : ''}>
            <span>{name.replace(/_/g, ' ')}</span>
            <time>{time(reached.get(name)?.time ?? '')}</time>
          </li>
        ))}
        {reached.has('cancelled') && (
          <li class="done cancelled">
            <span>cancelled</span>
            <time>{time(reached.get('cancelled')?.time ?? '')}</time>
          </li>
        )}
      </ol>
      <CourierMap trail={state.trail} delivered={status === 'delivered'} />
      <details open>
        <summary>events received ({state.steps.length})</summary>
        <ul class="steps">
          {state.steps.map((step, index) => (
            <li key={index} data-step={step.sequence} data-event={step.event}>
              <b>#{step.sequence}</b> {step.event} <time>{time(step.time)}</time>
            </li>
          ))}
        </ul>
      </details>
    </section>
  );
}
