import { CommanderError, InvalidArgumentError } from 'commander';
import { describeError, isActorlogError } from '../src/errors.ts';
import type { StreamStatus } from '../src/log/types.ts';
import { isStreamStatus, STREAM_STATUSES } from '../src/log/streamStatus.ts';

/** Where a command writes its lines (process.stdout, or a buffer in tests). */
export interface Out {
  write(chunk: string): unknown;
}

/**
 * Exit codes of the CLI: 0 ok, 1 a replay differs from the live snapshot (`--verify`) or, with
 * `--verify --strict`, there was no live snapshot to compare with, 2 any error.
 */
export const ExitCodes = { OK: 0, MISMATCH: 1, NOT_VERIFIED: 1, ERROR: 2 } as const;

/**
 * Lays out rows as a plain-text table: a header line, then one line per row, columns separated by
 * two spaces and padded to the widest cell (the last column is not padded).
 *
 * @example
 * ```ts
 * formatTable(['ID', 'STATUS'], [['job-1', 'done']]); // "ID     STATUS\njob-1  done\n"
 * ```
 */
export function formatTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((h, i) => rows.reduce((w, row) => Math.max(w, (row[i] ?? '').length), h.length));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd() + '\n';
  return line(headers) + rows.map(line).join('');
}

/**
 * One line of a streaming table whose rows are not known in advance (`tail`): each cell padded to a
 * fixed width, a longer cell pushing the rest right by one space.
 */
export function formatFixedRow(cells: readonly string[], widths: readonly number[]): string {
  return (
    cells
      .map((cell, i) => (i < widths.length && i < cells.length - 1 ? cell.padEnd(widths[i]!) + ' ' : cell))
      .join('')
      .trimEnd() + '\n'
  );
}

/** A value as one JSON line (`--json` output). */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value) + '\n';
}

/** An epoch-ms time as an ISO 8601 UTC string, without milliseconds. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Commander parser of `--status active,done`. @throws InvalidArgumentError on an unknown status */
export function parseStatuses(value: string): StreamStatus[] {
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const unknown = list.filter((s) => !isStreamStatus(s));
  if (list.length === 0 || unknown.length > 0) {
    throw new InvalidArgumentError(
      `expected a comma-separated list of ${STREAM_STATUSES.join(', ')}${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}`,
    );
  }
  return list as StreamStatus[];
}

/** Commander parser of a non-negative integer option (`--to`, `--limit`, `--from`, ms values). */
export function parseCount(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('expected a non-negative integer');
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

/** Commander parser of a positive integer option (`--poll-interval`). */
export function parsePositive(value: string): number {
  const n = parseCount(value);
  if (n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/**
 * The stderr line for an error: `actorlog: <message> (<code>)`. Codes are those of
 * {@link ErrorCodes}; usage errors from commander are `INVALID_OPTIONS`, anything else `INTERNAL`.
 */
export function errorLine(err: unknown): string {
  if (isActorlogError(err)) return `actorlog: ${err.message} (${err.code})\n`;
  if (err instanceof CommanderError) return `actorlog: ${err.message.replace(/^error: /, '')} (INVALID_OPTIONS)\n`;
  const info = describeError(err);
  return `actorlog: ${info.message} (${info.code ?? 'INTERNAL'})\n`;
}
