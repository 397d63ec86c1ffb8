/** Opens a log as an application would and prints what it got: `OK`, or `<code> <message>`. */
import { isActorlogError } from 'actorlog';
import { openSqliteStore } from 'actorlog/stores/sqlite';

try {
  openSqliteStore(process.argv[2]!).close();
  console.log('OK');
} catch (err) {
  console.log(
    isActorlogError(err) ? `${err.code} ${typeof err.details?.kind === 'string' ? err.details.kind : ''} ${err.message}` : `NOT CODED ${String(err)}`,
  );
}
