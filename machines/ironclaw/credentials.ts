import type { Credential } from './schemas.ts';

/** The text that replaces a credential value found in tool output or LLM text. */
export const SCRUBBED = '[credential]';

/**
 * The credentials delivered to one worker, held in process memory only (docs/architecture.md invariant 7):
 * the log records that they were delivered (names, count), never their values. After a restart the
 * vault is empty; {@link ensure} fetches them again before a tool needs them.
 *
 * SOURCE: seed 002 `fetch_credentials`: "The caller should set each credential as an environment
 * variable before starting the execution loop" — here tools get them as `env` (and, with
 * `toProcessEnv`, they are also set on `process.env`).
 *
 * @example
 * ```ts
 * const vault = new CredentialVault(() => client.fetchCredentials());
 * const { names } = await vault.load();         // ['GITHUB_TOKEN']
 * vault.scrub('token is ghp_abc123');           // 'token is [credential]'
 * ```
 */
export class CredentialVault {
  private values = new Map<string, string>();
  private loading?: Promise<string[]>;

  constructor(
    private readonly fetch: () => Promise<Credential[]>,
    private readonly toProcessEnv = false,
  ) {}

  /** Fetches the credentials (again) and keeps them; resolves with their names, sorted. */
  load(): Promise<string[]> {
    const run = this.fetch().then((list) => {
      this.values = new Map(list.map((c) => [c.env_var, c.value]));
      if (this.toProcessEnv) for (const [name, value] of this.values) process.env[name] = value;
      return this.names();
    });
    this.loading = run;
    run.catch(() => {
      if (this.loading === run) this.loading = undefined;
    });
    return run;
  }

  /** Loads them once per process (after a recovery the machine is past its credentials step). */
  ensure(): Promise<string[]> {
    return this.loading ?? this.load();
  }

  names(): string[] {
    return [...this.values.keys()].sort();
  }

  /** The credentials as environment variables, for tools. */
  env(): Readonly<Record<string, string>> {
    return Object.freeze(Object.fromEntries(this.values));
  }

  /** `text` with every credential value (4 characters or more) replaced by {@link SCRUBBED}. */
  scrub(text: string): string {
    let out = text;
    for (const value of this.values.values()) if (value.length >= 4) out = out.split(value).join(SCRUBBED);
    return out;
  }

  /** A JSON-safe value with {@link scrub} applied to every string in it. */
  scrubDeep<T>(value: T): T {
    if (this.values.size === 0) return value;
    return JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === 'string' ? this.scrub(v) : v))) as T;
  }
}
