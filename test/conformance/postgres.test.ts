import { openPostgresStore } from '../../stores/postgres/index.ts';
import { usePostgresDatabase } from '../support/postgresDatabase.ts';
import { storeConformance } from './storeConformance.ts';

const database = usePostgresDatabase();
let n = 0;

// a fresh schema per store: the suite's stores are empty and apart, on one database of the shared server
storeConformance('postgres', (options) => openPostgresStore(database().url, { ...options, schema: `conformance_${++n}` }));
