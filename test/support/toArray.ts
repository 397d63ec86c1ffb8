/** Collects an async iterable (a `replay()`) into an array (Node 20 has no `Array.fromAsync`). */
export async function toArray<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
