import { ConfigError, loadConfig } from './config/config';
import { createApp } from './app.factory';
import { createLogger } from './observability/logger';

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
  logger.info(
    { url: await app.getUrl(), eventStore: config.eventStore.kind, dataDir: config.dataDir },
    'Towline is listening',
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
