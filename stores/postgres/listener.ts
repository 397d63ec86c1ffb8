import type pg from 'pg';
import { Subject, type Observable } from 'rxjs';
import type { Connection } from './connection.ts';

/** Reconnect delays of the LISTEN client after it loses its connection (ms): doubled from the first up to the last. */
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 10_000;

/**
 * The wake-up channel between processes: an empty `NOTIFY` after each commit that appended (or
 * posted inbox messages), heard by one dedicated `LISTEN` client per store. A notification carries
 * nothing and may be lost (it reaches only sessions listening at that moment, and does not pass
 * transaction poolers): readers still poll, the notification only cuts their wait short.
 *
 * - `notify()` sends `NOTIFY <channel>` on the pool after a commit, coalesced: while one is in flight,
 *   later calls send one more after it, not one each. A failed NOTIFY is ignored (the poll finds the
 *   events; nothing is lost).
 * - `wakeups` emits on each notification, on each local commit, and after the LISTEN client
 *   (re)connects (anything may have been missed meanwhile). The client connects when the first
 *   subscriber arrives (`acquire()`) and ends when the last leaves (`release()`) or the store closes;
 *   a lost connection is re-made with backoff (250 ms doubling to 10 s).
 *
 * @example
 * ```ts
 * const listener = new Listener(connection, 'actorlog_actorlog');
 * listener.acquire();
 * listener.wakeups.subscribe(() => poll());
 * listener.notify(); // after a commit
 * ```
 */
export class Listener {
  private readonly subject = new Subject<void>();
  /** Emits when the log may have new events (a notification, a local commit, a reconnect). */
  readonly wakeups: Observable<void> = this.subject.asObservable();
  private client: pg.Client | undefined;
  private users = 0;
  private closed = false;
  private sending = false;
  private pending = false;
  private retryMs = RECONNECT_MIN_MS;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly connection: Connection,
    private readonly channel: string,
  ) {}

  /** A subscriber needs wake-ups from other processes: connect the LISTEN client if it is not. */
  acquire(): void {
    this.users++;
    if (this.users === 1) this.connect();
  }

  /** A subscriber left; the last one ends the LISTEN client. */
  release(): void {
    this.users = Math.max(0, this.users - 1);
    if (this.users === 0) this.disconnect();
  }

  /** Wakes local subscribers now and other processes' through NOTIFY (coalesced). */
  notify(): void {
    if (this.closed) return;
    this.subject.next();
    if (this.sending) {
      this.pending = true;
      return;
    }
    this.sending = true;
    this.connection.pool
      .query(`NOTIFY "${this.channel}"`)
      .catch(() => {
        // a lost wake-up: subscribers' polls find the events
      })
      .finally(() => {
        this.sending = false;
        if (this.pending && !this.closed) {
          this.pending = false;
          this.notify();
        }
      });
  }

  private connect(): void {
    if (this.closed || this.client !== undefined || this.users === 0) return;
    const client = this.connection.listenClient();
    this.client = client;
    const lost = () => {
      if (this.client !== client) return;
      this.client = undefined;
      client.removeAllListeners('notification');
      client.end().catch(() => {});
      if (this.closed || this.users === 0) return;
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.connect();
      }, this.retryMs);
      this.retryTimer.unref();
      this.retryMs = Math.min(this.retryMs * 2, RECONNECT_MAX_MS);
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', () => this.subject.next());
    client
      .connect()
      .then(() => client.query(`LISTEN "${this.channel}"`))
      .then(() => {
        this.retryMs = RECONNECT_MIN_MS;
        this.subject.next(); // anything committed before LISTEN took effect is found by this poll
      })
      .catch(lost);
  }

  private disconnect(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) {
      client.removeAllListeners('notification');
      client.end().catch(() => {});
    }
  }

  /** Ends the LISTEN client and completes `wakeups`. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.disconnect();
    this.subject.complete();
  }
}
