import {
  boolean,
  integer,
  object,
  persistence,
  podExtras,
  resources,
  scheduling,
  type Schema,
  serverImage,
  string,
} from './schema-parts';

import { globalSchema } from './global-schema';

/** The values.schema.json of the bundled servers (charts/redis, charts/postgresql). */
/** The values of the bundled Redis. */
export function redisSchema(): Schema {
  return {
    $schema: 'https://json-schema.org/draft-07/schema#',
    title: 'choreo redis values',
    ...object(
      'The bundled Redis (AOF on, StatefulSet + PVC).',
      {
        global: globalSchema(),
        enabled: boolean('Deploy the bundled Redis.'),
        image: serverImage,
        auth: object('Password (requirepass): global.redis.password.', {
          enabled: boolean('Require a password.'),
        }),
        appendfsync: string('appendfsync of the AOF.', { enum: ['always', 'everysec', 'no'] }),
        maxmemory: string('maxmemory (e.g. 400mb); empty: no limit of its own.', {
          pattern: '^([0-9]+(b|kb|mb|gb|k|m|g)?)?$',
        }),
        // Only policies that never evict a key without a TTL: the streams have none.
        maxmemoryPolicy: string('maxmemory-policy.', {
          enum: ['noeviction', 'volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl'],
        }),
        persistence,
        resources,
        ...podExtras,
        ...scheduling,
      },
      ['image', 'auth', 'appendfsync', 'maxmemoryPolicy', 'persistence'],
    ),
  };
}

const IDENTIFIER = '^[a-z_][a-z0-9_]{0,62}$';

/** The values of the bundled PostgreSQL. */
export function postgresqlSchema(): Schema {
  return {
    $schema: 'https://json-schema.org/draft-07/schema#',
    title: 'choreo postgresql values',
    ...object(
      'The bundled PostgreSQL (wal_level=logical, StatefulSet + PVC).',
      {
        global: globalSchema(),
        enabled: boolean('Deploy the bundled PostgreSQL.'),
        image: serverImage,
        auth: object(
          'The user and database created at first start.',
          {
            username: string('Role the apps connect as (not postgres).', {
              pattern: IDENTIFIER,
              not: { enum: ['postgres'] },
            }),
            database: string('Database name.', { pattern: IDENTIFIER }),
          },
          ['username', 'database'],
        ),
        maxReplicationSlots: integer('max_replication_slots.', 1, 1000),
        maxWalSenders: integer('max_wal_senders.', 1, 1000),
        maxSlotWalKeepSize: {
          type: ['string', 'integer'],
          description: 'max_slot_wal_keep_size (e.g. 4GB; a bare number is MB); -1: unlimited.',
          pattern: '^(-1|[0-9]+(kB|MB|GB|TB)?)$',
          minimum: -1,
        },
        extraSettings: {
          type: 'object',
          description: 'Other server settings, passed as -c name=value.',
          propertyNames: {
            pattern: '^[a-z_][a-z0-9_.]*$',
            not: {
              enum: ['wal_level', 'max_replication_slots', 'max_wal_senders', 'max_slot_wal_keep_size'],
            },
          },
          additionalProperties: { type: ['string', 'number', 'boolean'] },
        },
        persistence,
        resources,
        ...podExtras,
        ...scheduling,
      },
      ['image', 'auth', 'maxReplicationSlots', 'maxWalSenders', 'maxSlotWalKeepSize', 'persistence'],
    ),
  };
}
