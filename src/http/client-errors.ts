import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

/** What Node reports before a request reaches Fastify, as the API's own errors: status and stable code. */
function describe(error: NodeJS.ErrnoException): { status: number; code: string; message: string } {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        code: 'request_timeout',
        message: 'The request (headers within TW_HEADERS_TIMEOUT, the whole body within TW_REQUEST_TIMEOUT) did not arrive in time',
      };
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, code: 'headers_too_large', message: 'Request headers are too large' };
    default:
      return { status: 400, code: 'invalid_request', message: 'Malformed HTTP request' };
  }
}

/**
 * Fastify's clientErrorHandler: a request cut by a timeout, with oversized headers or malformed HTTP is
 * answered in the `{"error":{"code","message"}}` shape like every other refusal, then the connection is closed
 * (Node's own behaviour: the stream cannot be trusted any more).
 */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has no one left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const { status, code, message } = describe(error);
  const body = JSON.stringify({ error: { code, message } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
