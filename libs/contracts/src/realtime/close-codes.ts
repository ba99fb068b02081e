/**
 * WebSocket close codes of the real-time protocol. 4000–4099: reconnect (with backoff) and resume
 * every subscription from the last offset held; nothing is lost. 4100–4199: do not retry, the same
 * request would be refused again. Standard codes keep their meaning: 1001 (going away), 1006
 * (abnormal), 1011, 1012 and 1013 are also "reconnect and resume"; 1009 (a frame over the hard
 * limit) and 1008 are "do not retry".
 */
export const CloseCodes = {
  /** The replica is shutting down or restarting. */
  shutdown: 4000,
  /** The connection's send queue passed its bound (the client read too slowly). */
  slowConsumer: 4001,
  /** No pong (or any frame) for two ping intervals. */
  heartbeatTimeout: 4002,
  /** The replica lost its pub/sub connection and is not ready; another replica will serve. */
  notReady: 4003,
  /** `?v=` names a protocol version this server does not speak. */
  unsupportedProtocol: 4100,
  /** The connection sent too many refused frames in a row. */
  policyViolation: 4101,
} as const;

export type CloseCode = (typeof CloseCodes)[keyof typeof CloseCodes];

const RESUMABLE_STANDARD = new Set([1001, 1005, 1006, 1011, 1012, 1013]);

/** Whether a client should reconnect and resume after a close with this code. */
export function shouldResume(code: number): boolean {
  return (code >= 4000 && code < 4100) || RESUMABLE_STANDARD.has(code);
}
