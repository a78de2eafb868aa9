import { ConfigError, loadConfig } from './config/config';
import { createApp } from './app.factory';
import { createLogger } from './observability/logger';

const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const logger = createLogger(config);
  const app = await createApp(config, { logger });
  await app.listen({ port: config.port, host: config.host });
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
