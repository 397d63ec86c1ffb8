import type { ExportSummary } from '../exportLog.ts';
import type { AtResult, DefinitionView, EventsPage, KindsView, MatchesPage, SequenceView, ServicePage, StreamInfo } from './types.ts';

/**
 * The viewer's reads that fold (see `ViewApi`), with arguments that cross a thread: what the
 * server asks of `ViewApi` in its own thread or, in `actorlog view`, of a worker running one
 * (cli/view/workerReads.ts). Query strings are URL query strings (`from=1&limit=100`).
 */
export interface StreamReads {
  streamInfo(streamId: string): Promise<StreamInfo>;
  events(streamId: string, query: string): Promise<EventsPage | MatchesPage>;
  at(streamId: string, version: number, actor: string): Promise<AtResult>;
  definition(streamId: string, actor: string, version: number): Promise<DefinitionView>;
  kinds(streamId: string): Promise<KindsView>;
  sequence(streamId: string, query: string): Promise<SequenceView>;
  service(query: string): Promise<ServicePage>;
  /** Writes the streams up to global position `to` as a log file of their own at `path` (see `exportLog`). */
  exportTo(path: string, streamIds: string[], to?: number): Promise<ExportSummary>;
  close(): Promise<void>;
}

/** The names of the {@link StreamReads} calls a worker answers. */
export const READ_CALLS = ['streamInfo', 'events', 'at', 'definition', 'kinds', 'sequence', 'service', 'exportTo'] as const;
export type ReadCall = (typeof READ_CALLS)[number];
