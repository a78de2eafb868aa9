#!/usr/bin/env node
// A webhook receiver for trying Towline on one machine (README, "First steps"): it listens on 127.0.0.1 only,
// answers every request 204 and prints each one as a JSON line — method, path, headers and the raw body as
// received — so what Towline sent, and its signatures, can be read and verified. Development only: it checks
// nothing itself (the README's verification snippets do that). Plain JavaScript on node:http, so it runs
// without a build and shares no code with the server it receives from.
//
//   node scripts/dev-receiver.mjs [port]        (default 9000; 0 picks a free one)
import { Buffer } from 'node:buffer';
import { createServer } from 'node:http';
import process from 'node:process';

const port = Number(process.argv[2] ?? 9000);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`error: the port must be a number from 0 to 65535, not '${process.argv[2]}'\n`);
  process.exit(2);
}

const server = createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    // One line per request, written before answering, so a reader that sees the answer sees the line too.
    process.stdout.write(
      `${JSON.stringify({
        received_at: new Date().toISOString(),
        method: request.method,
        path: request.url,
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      })}\n`,
    );
    response.writeHead(204).end();
  });
});

server.on('error', (error) => {
  process.stderr.write(`error: cannot listen on 127.0.0.1:${port}: ${error.message}\n`);
  process.exit(1);
});
server.listen(port, '127.0.0.1', () => {
  process.stderr.write(`receiving on http://127.0.0.1:${server.address().port}\n`);
});
// Stop at once on kill (the README's last step) and Ctrl-C: Towline keeps its connections alive, which a plain
// close() would wait for.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
