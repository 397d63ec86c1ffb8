import { describe, expect, it } from 'vitest';
import type { DefinitionRecord } from '../../../src/log/types.ts';
import { createStream, expectCode, type GetStore } from './fixtures.ts';

/** Machine definitions: saved once per hash (the first kept), loaded by hash, as copies, undone with a transaction. */
export function definitionSpecs(store: GetStore): void {
  describe('definitions', () => {
    const definition = (id: string) => ({
      id,
      states: { idle: { on: { start: [{ target: [`#${id}.busy`], guard: 'canStart', actions: ['log'] }] } }, busy: {} },
    });
    const record = (hash: string, name = 'job', at = 100): DefinitionRecord => ({ hash, name, definition: definition(name), recordedAt: at });

    it('loads a saved definition by its hash; an unknown hash is undefined', () => {
      store().saveDefinition(record('h1'));
      store().saveDefinition(record('h2', 'session', 200));
      expect(store().loadDefinition('h1')).toEqual(record('h1'));
      expect(store().loadDefinition('h2')).toEqual(record('h2', 'session', 200));
      expect(store().loadDefinition('nope')).toBeUndefined();
    });

    it('keeps the first record saved for a hash: saving it again is a no-op', () => {
      store().saveDefinition(record('h1', 'job', 100));
      store().saveDefinition({ hash: 'h1', name: 'other', definition: { id: 'changed' }, recordedAt: 999 });
      expect(store().loadDefinition('h1')).toEqual(record('h1', 'job', 100));
    });

    it('returns copies: mutating what was saved or loaded does not change the log', () => {
      const saved = record('h1');
      store().saveDefinition(saved);
      (saved.definition as { id: string }).id = 'mutated';
      const loaded = store().loadDefinition('h1')!;
      (loaded.definition as { id: string }).id = 'mutated too';
      expect(store().loadDefinition('h1')!.definition).toEqual(definition('job'));
    });

    it('is written in the transaction of the stream it comes with: a rollback undoes both', () => {
      expect(() =>
        store().transaction(() => {
          store().saveDefinition(record('h1'));
          createStream(store(), 'a');
          throw new Error('abort');
        }),
      ).toThrow('abort');
      expect(store().loadDefinition('h1')).toBeUndefined();
      expect(store().getStream('a')).toBeUndefined();
      store().transaction(() => {
        store().saveDefinition(record('h1'));
        createStream(store(), 'a');
      });
      expect(store().loadDefinition('h1')).toEqual(record('h1'));
    });

    it('a rolled-back first save leaves the hash free for the next one', () => {
      const abort = () => {
        store().saveDefinition(record('h1', 'first'));
        store().saveDefinition(record('h1', 'again'));
        throw new Error('abort');
      };
      expect(() => store().transaction(abort)).toThrow('abort');
      store().saveDefinition(record('h1', 'second'));
      expect(store().loadDefinition('h1')?.name).toBe('second');
    });

    it('throws STORE_UNAVAILABLE once closed', () => {
      store().close();
      expectCode(() => store().saveDefinition(record('h1')), 'STORE_UNAVAILABLE');
      expectCode(() => store().loadDefinition('h1'), 'STORE_UNAVAILABLE');
    });
  });
}
