/**
 * Records cleaned up per write command. Why so few: FerretDB 1.24 on SQLite keeps a query open for
 * every statement of an update command until the whole command ends, from a pool of 100
 * connections, so a command of 100 statements waits for a connection it holds itself — and every
 * other client waits with it, for good (seen in the benchmark with batches of 500).
 */
export const CLEANUP_STATEMENTS = 20;
