/**
 * Real-time channels, as clients name them on WebSocket and SSE. One definition for the apps that
 * publish to them, the apps that serve them and the clients that subscribe.
 */
export const Channels = {
  /** One order's lifecycle and its courier's position; needs the order's tracking token. */
  order: (orderId: string) => `order:${orderId}`,
  /** Row changes of an entity (its `cdc.<name>` stream). */
  entity: (entity: string) => `entity:${entity}`,
  /** Live window values of an aggregation rule (the `aggregates` stream). */
  aggregates: (rule: string) => `aggregates:${rule}`,
} as const;

/** A parsed channel name. */
export type ChannelRef =
  | { kind: 'order'; name: string; orderId: string }
  | { kind: 'entity'; name: string; entity: string }
  | { kind: 'aggregates'; name: string; rule: string };

export type ChannelKind = ChannelRef['kind'];

/** Why a text is not a channel name; `message` is fit for an error frame. */
export class ChannelError extends Error {
  constructor(
    readonly channel: string,
    readonly reason: string,
  ) {
    super(
      `invalid channel ${JSON.stringify(channel.length > 80 ? `${channel.slice(0, 80)}…` : channel)}: ${reason}`,
    );
    this.name = 'ChannelError';
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** An entity name, as entity definitions allow it (a PostgreSQL identifier, lower case). */
const ENTITY = /^[a-z][a-z0-9_]{0,62}$/;
/** An aggregation rule name. */
const RULE = /^[a-z][a-z0-9_-]{0,62}$/;

/** Parses `order:<uuid>`, `entity:<name>` or `aggregates:<rule>`; throws ChannelError on anything else. */
export function parseChannel(text: string): ChannelRef {
  if (typeof text !== 'string') throw new ChannelError(String(text), 'must be a string');
  const colon = text.indexOf(':');
  if (colon < 0)
    throw new ChannelError(text, 'must look like order:<id>, entity:<name> or aggregates:<rule>');
  const kind = text.slice(0, colon);
  const rest = text.slice(colon + 1);
  switch (kind) {
    case 'order':
      if (!UUID.test(rest))
        throw new ChannelError(text, 'an order channel names the order id (a lower-case UUID)');
      return { kind, name: text, orderId: rest };
    case 'entity':
      if (!ENTITY.test(rest))
        throw new ChannelError(text, 'an entity channel names an entity (lower case, a-z 0-9 _)');
      return { kind, name: text, entity: rest };
    case 'aggregates':
      if (!RULE.test(rest))
        throw new ChannelError(text, 'an aggregates channel names a rule (lower case, a-z 0-9 _ -)');
      return { kind, name: text, rule: rest };
    default:
      throw new ChannelError(
        text,
        `unknown channel kind ${JSON.stringify(kind.slice(0, 40))} (order, entity or aggregates)`,
      );
  }
}
