import { useSpecServers } from '@choreo/testing';
import { errorResponse } from '@choreo/http';
import { Database, IDEMPOTENCY_SCHEMA, IdempotencyKeyReusedError, withIdempotency } from './index';

describe('withIdempotency (real PostgreSQL)', () => {
  const servers = useSpecServers({ postgres: true, database: 'idempotency' });
  let db: Database;

  beforeAll(async () => {
    db = new Database({ url: servers.databaseUrl, poolMax: 8 });
    servers.atStop(() => db.close());
    await db.query(IDEMPOTENCY_SCHEMA);
    await db.query('create table note (id serial primary key, body text not null)');
  });

  const notes = async (body: string) =>
    (await db.query<{ n: number }>('select count(*)::int as n from note where body = $1', [body])).rows[0].n;

  /** One write: a note row, answered with its id, as a route would in its transaction. */
  const writeNote = (key: string | undefined, body: string, pauseMs = 0) =>
    db.transaction((tx) =>
      withIdempotency(tx, { key, method: 'POST', path: '/notes', body: { body } }, async () => {
        const { rows } = await tx.query<{ id: number }>('insert into note (body) values ($1) returning id', [
          body,
        ]);
        if (pauseMs > 0) await tx.query('select pg_sleep($1)', [pauseMs / 1000]);
        return { statusCode: 201, body: { id: rows[0].id }, headers: { 'x-note-id': String(rows[0].id) } };
      }),
    );

  it('runs the work once for concurrent uses of a key; the others replay its stored response', async () => {
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => writeNote('key-a', 'alpha', 50)));
    expect(await notes('alpha')).toBe(1);
    expect(outcomes.filter((o) => !o.replayed)).toHaveLength(1);
    const first = outcomes.find((o) => !o.replayed)!.response;
    for (const outcome of outcomes) expect(outcome.response).toEqual(first);
    // A later retry replays too, headers included.
    const later = await writeNote('key-a', 'alpha');
    expect(later).toEqual({ replayed: true, response: first });
    expect(await notes('alpha')).toBe(1);
  });

  it('refuses the key with another request: 422 idempotency_key_reused, and nothing is written', async () => {
    await writeNote('key-b', 'beta');
    const refused = writeNote('key-b', 'gamma');
    await expect(refused).rejects.toThrow(IdempotencyKeyReusedError);
    const error = await refused.catch((e: unknown) => e);
    expect(errorResponse(error)).toMatchObject({
      statusCode: 422,
      error: 'idempotency_key_reused',
      idempotency_key: 'key-b',
    });
    expect(await notes('gamma')).toBe(0);
  });

  it('forgets a key whose work failed, so a retry runs', async () => {
    const failing = db.transaction((tx) =>
      withIdempotency(tx, { key: 'key-c', method: 'POST', path: '/notes', body: { body: 'delta' } }, () =>
        Promise.reject(new Error('out of stock')),
      ),
    );
    await expect(failing).rejects.toThrow('out of stock');
    expect((await writeNote('key-c', 'delta')).replayed).toBe(false);
    expect(await notes('delta')).toBe(1);
  });

  it('runs every time without a key', async () => {
    const outcomes = [await writeNote(undefined, 'epsilon'), await writeNote(undefined, 'epsilon')];
    expect(outcomes.map((o) => o.replayed)).toEqual([false, false]);
    expect(await notes('epsilon')).toBe(2);
  });
});
