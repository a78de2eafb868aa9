import { ConfigError, loadConfig, type AppConfig } from './config/config';
import { createApp } from './app.factory';
import { createLogger } from './observability/logger';

const SHUTDOWN_GRACE_MS = 10_000;
/** sysexits' EX_CONFIG: the documented exit code of every configuration problem, a busy port included. */
const EX_CONFIG = 78;

/**
 * A start-up failure the operator must fix in the configuration, as one line naming it (and exit 78), never a
 * stack trace: the environment or the TW_CONFIG file (ConfigError, also when Nest wraps it), or the listen
 * address (busy, not allowed, not on this machine).
 */
function configurationProblem(error: unknown, config: AppConfig | undefined): string | undefined {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof ConfigError) return cause.message;
    const code = (cause as NodeJS.ErrnoException).code;
    const where = config ? `${config.host}:${config.port} (TW_HOST, TW_PORT)` : 'the listen address';
    if (code === 'EADDRINUSE') return `Cannot listen on ${where}: the port is already in use by another process`;
    if (code === 'EACCES') return `Cannot listen on ${where}: permission denied (ports below 1024 need privileges)`;
    if (code === 'EADDRNOTAVAIL') return `Cannot listen on ${where}: the address is not one of this machine's`;
  }
  return undefined;
}

async function main(): Promise<void> {
  // Everything written to the data directory (the store, the read models, their WALs, the master key) is
  // its owner's only, from its creation on; src/config/data-directory.ts repairs older files.
  process.umask(0o077);
  let config: AppConfig | undefined;
  let app;
  let logger;
  try {
    config = loadConfig();
    logger = createLogger(config);
    app = await createApp(config, { logger });
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    const problem = configurationProblem(error, config);
    if (problem === undefined) throw error;
    console.error(problem);
    logger?.flush();
    process.exit(EX_CONFIG);
  }
  logger.info({ url: await app.getUrl(), eventStore: config.eventStore.kind, dataDir: config.dataDir }, 'Towline is listening');

  // Graceful shutdown: stop accepting, let in-flight requests and consumers finish, flush the group commit,
  // close the store, exit 0. A second signal exits at once.
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    logger.info({ signal }, 'Shutting down');
    // Node's server.close() reaps only the keep-alive connections idle at that instant; one that finishes
    // its request afterwards would hold the shutdown open, so keep reaping, and cut stragglers after 10 s.
    const server = app.getHttpServer();
    const reaper = setInterval(() => server.closeIdleConnections(), 100);
    const cutoff = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
    app.close().finally(() => {
      clearInterval(reaper);
      clearTimeout(cutoff);
    }).then(
      () => {
        logger.info('Stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'Shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
