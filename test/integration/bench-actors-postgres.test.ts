import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { benchCounter } from '../../bench/actor.ts';
import { countWrites, runActorLoad } from '../../bench/actorLoad.ts';
import { runActorsPostgresBench } from '../../bench/actorsPostgres.ts';
import { actorsPostgresTargets, formatActorsPostgres } from '../../bench/actorsPostgresCli.ts';
import { createRawTable, insertRaw, readEventRows } from '../../bench/rawInserts.ts';
import { createActorSystem } from '../../src/runtime/actorSystem.ts';
import { openPostgresStore } from '../../stores/postgres/index.ts';
import { usePostgresDatabase } from '../support/postgresDatabase.ts';

// Smoke and correctness of the PostgreSQL actors bench (bench/actorsPostgres.ts) on the shared test
// server. Nothing is asserted about speed.

const database = usePostgresDatabase();
const positiveFinite = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;

describe('PostgreSQL actors bench', () => {
  it('journals every event of every active actor, and the raw baselines insert exactly the rows the journal wrote', async () => {
    const pool = new pg.Pool({ connectionString: database().url, max: 4 });
    const store = await openPostgresStore(pool, { schema: 'bench_rows' });
    const counted = countWrites(store);
    const system = createActorSystem({ store: counted.store, machines: { counter: benchCounter } });
    try {
      await system.recover();
      const load = await runActorLoad(system, { actors: 30, eventsPerActor: 7, prefix: 'rows', slice: 16, count: counted.count });
      expect(load.events).toBe(210);
      // group commit: the 210 sends were not committed one by one
      expect(load.transactions).toBeGreaterThan(0);
      expect(load.transactions).toBeLessThan(210);
      for (let i = 0; i < 30; i++) expect(await store.getStream(`rows-${i}`)).toMatchObject({ version: 7, status: 'stopped' });

      const S = '"bench_rows"';
      await createRawTable(pool, S);
      const rows = await readEventRows(pool, S, 'rows');
      expect(rows.streamId).toHaveLength(210);
      const columns = 'stream_id, version, owner_epoch, type, data::text AS data, meta::text AS meta';
      const journaled = (await pool.query(`SELECT ${columns} FROM ${S}.events WHERE stream_id LIKE 'rows-%' ORDER BY global_position`)).rows;
      for (const batch of [1, 8, 1000]) {
        const raw = await insertRaw(pool, S, rows, { batch });
        expect(raw.rows).toBe(210);
        expect((await pool.query(`SELECT ${columns} FROM ${S}.raw_events ORDER BY global_position`)).rows).toEqual(journaled);
      }
      const sample = await insertRaw(pool, S, rows, { batch: 1, limit: 5 });
      expect(sample.rows).toBe(5);
      expect((await pool.query(`SELECT ${columns} FROM ${S}.raw_events ORDER BY global_position`)).rows).toEqual(journaled.slice(0, 5));
    } finally {
      await system.close();
      await store.close();
      await pool.end();
    }
  });

  it('reports every figure for each number of active actors, with the machine and the targets', async () => {
    const lines: string[] = [];
    const result = await runActorsPostgresBench({
      url: database().url,
      actors: [1, 20],
      events: 200,
      batch: 50,
      singleRows: 10,
      runs: 1,
      sqlite: false,
      log: (l) => lines.push(l),
    });
    expect(result.counts.map((c) => [c.actors, c.eventsPerActor, c.events])).toEqual([
      [1, 200, 200],
      [20, 10, 200],
    ]);
    for (const c of result.counts) {
      for (const key of [
        'journaledPerSec',
        'rawBatchedPerSec',
        'rawSinglePerSec',
        'batchedRatio',
        'singleRatio',
        'delayP50Ms',
        'delayP99Ms',
        'delayMaxMs',
        'cpuUsPerEvent',
        'transactions',
        'eventsPerTransaction',
      ] as const) {
        expect(positiveFinite(c[key]), `${c.actors} actors: ${key}`).toBe(true);
      }
      expect(c.batchedRatio).toBeCloseTo(c.journaledPerSec / c.rawBatchedPerSec, 2);
    }
    expect(result.server).toMatch(/^PostgreSQL 1\d\./);
    expect(result.machine).toMatchObject({ node: process.version, cpus: expect.any(Number) });
    expect(result.sqlite).toBeUndefined();
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
    expect(lines.some((l) => l.includes('20 actors x 10 events'))).toBe(true);
    const table = formatActorsPostgres(result);
    expect(table).toContain('ratio journaled / raw batched');
    expect(table).toContain('20 actors');
    expect(actorsPostgresTargets(result).map((t) => t.target)).toEqual([expect.stringContaining('event-loop delay p99 < 20 ms')]);
  });
});
