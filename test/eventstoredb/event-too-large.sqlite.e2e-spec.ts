import { describeEventTooLarge } from './event-too-large';

// One store per file: each suite boots its own app, in its own worker.
describeEventTooLarge('SQLite', {});
