import { describe, expect, it } from 'vitest';
import type { DefinitionRecord } from '../../../src/log/types.ts';
import { expectCode, machine, type GetStore } from './fixtures.ts';

/** Machine definitions: saved once per hash (the first kept), loaded by hash, as copies, undone with a failed batch. */
export function definitionSpecs(store: GetStore): void {
  describe('definitions', () => {
    const definition = (id: string) => ({
      id,
      states: { idle: { on: { start: [{ target: [`#${id}.busy`], guard: 'canStart', actions: ['log'] }] } }, busy: {} },
    });
    const record = (hash: string, name = 'job', at = 100): DefinitionRecord => ({ hash, name, definition: definition(name), recordedAt: at });

    it('loads a saved definition by its hash; an unknown hash is undefined', async () => {
      await store().saveDefinition(record('h1'));
      await store().saveDefinition(record('h2', 'session', 200));
      expect(await store().loadDefinition('h1')).toEqual(record('h1'));
      expect(await store().loadDefinition('h2')).toEqual(record('h2', 'session', 200));
      expect(await store().loadDefinition('nope')).toBeUndefined();
    });

    it('keeps the first record saved for a hash: saving it again is a no-op', async () => {
      await store().saveDefinition(record('h1', 'job', 100));
      await store().saveDefinition({ hash: 'h1', name: 'other', definition: { id: 'changed' }, recordedAt: 999 });
      await store().write({ definitions: [{ hash: 'h1', name: 'third', definition: {}, recordedAt: 1 }, record('h3')] });
      expect(await store().loadDefinition('h1')).toEqual(record('h1', 'job', 100));
      expect(await store().loadDefinition('h3')).toEqual(record('h3'));
    });

    it('returns copies: mutating what was saved or loaded does not change the log', async () => {
      const saved = record('h1');
      await store().saveDefinition(saved);
      (saved.definition as { id: string }).id = 'mutated';
      const loaded = (await store().loadDefinition('h1'))!;
      (loaded.definition as { id: string }).id = 'mutated too';
      expect((await store().loadDefinition('h1'))!.definition).toEqual(definition('job'));
    });

    it('is written in the batch of the stream it comes with: a failed batch undoes both, and the hash stays free', async () => {
      await store().createStream({ streamId: 'a', machine, input: null, createdAt: 1 });
      await expectCode(
        () =>
          store().write({
            definitions: [record('h1', 'first')],
            streams: [
              { streamId: 'b', machine, input: null, createdAt: 1 },
              { streamId: 'a', machine, input: null, createdAt: 1 },
            ],
          }),
        'STREAM_EXISTS',
      );
      expect(await store().loadDefinition('h1')).toBeUndefined();
      expect(await store().getStream('b')).toBeUndefined();
      await store().write({ definitions: [record('h1', 'second')], streams: [{ streamId: 'b', machine, input: null, createdAt: 1 }] });
      expect((await store().loadDefinition('h1'))?.name).toBe('second');
    });

    it('throws STORE_UNAVAILABLE once closed', async () => {
      await store().close();
      await expectCode(() => store().saveDefinition(record('h1')), 'STORE_UNAVAILABLE');
      await expectCode(() => store().loadDefinition('h1'), 'STORE_UNAVAILABLE');
    });
  });
}
