/** Messages between `npm run bench:e2e` and its load processes (IPC). */

/** What a load process needs to place and track orders. */
export interface LoadSetup {
  eventsUrl: string;
  wsUrl: string;
  apiToken: string;
  productIds: string[];
  /** WebSocket connections this process tracks its orders over (round robin). */
  connections: number;
}

/** One fixed-rate phase, shared by every load process: each sends its own slots of one schedule. */
export interface PhasePlan {
  name: string;
  /** Orders per second over all load processes. */
  rate: number;
  durationMs: number;
  /** Epoch ms of the first order of the schedule. */
  startAt: number;
  /** After the last send, how long orders get to reach delivered or cancelled. */
  drainMs: number;
  /** This process sends slots worker, worker + workers, …: the processes interleave evenly. */
  worker: number;
  workers: number;
}

export type ToLoad = { cmd: 'setup'; setup: LoadSetup } | { cmd: 'phase'; plan: PhasePlan };

/** Latency samples in ms and counts of one phase, from one load process. */
export interface PhaseSamples {
  /** Scheduled send of POST /orders → the client's first frame with the order (publication or snapshot). */
  firstFrame: number[];
  /** Scheduled send of POST /orders → its 201 answer. */
  postAnswer: number[];
  /** The 201 answer → the `subscribed` reply to the order's subscription (token check, history, pub/sub). */
  subscribe: number[];
  /** Live `order.*` publications: [event id, envelope time (stamped in the transaction), arrival], epoch ms. */
  lifecycle: [string, number, number][];
  /** `courier.location` envelope time (the simulator's publish) → its frame: a path without PostgreSQL. */
  location: number[];
  scheduled: number;
  placed: number;
  /** POST /orders answers other than 201, and network errors. */
  refused: number;
  /** Orders that reached delivered or cancelled within the drain. */
  finished: number;
  /** Error frames on a subscription (bad token, rate limited …). */
  subscriptionErrors: number;
  /** The latest a POST left after its scheduled time (the load process's own lag), ms. */
  maxSendLagMs: number;
  firstError?: string;
}

export type FromLoad =
  | { kind: 'ready' }
  | { kind: 'progress'; phase: string; placed: number; finished: number; refused: number }
  | { kind: 'done'; phase: string; samples: PhaseSamples };
