import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** JSON bodies may nest at most this deep (objects and arrays); deeper is a 400 before parsing. */
export const MAX_JSON_DEPTH = 32;

/**
 * How deep `text` nests, counting `[` and `{` outside strings; stops counting past `limit`. A scan
 * rather than a walk of the parsed value: a hostile body never reaches JSON.parse or a validator's
 * recursion.
 */
export function jsonDepthExceeds(text: string, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 92 /* \ */) i++;
      else if (code === 34 /* " */) inString = false;
    } else if (code === 34) inString = true;
    else if (code === 91 /* [ */ || code === 123 /* { */) {
      if (++depth > limit) return true;
    } else if (code === 93 /* ] */ || code === 125 /* } */) depth--;
  }
  return false;
}

/** The methods each route pattern serves, to answer 405 with `Allow` for the others. */
class RouteMethods {
  private readonly routes: { pattern: RegExp; methods: Set<string> }[] = [];

  add(url: string, methods: string | string[]): void {
    // A catch-all (CORS preflight's `OPTIONS *`) would make every unknown path a 405.
    if (url === '*' || url === '/*') return;
    // `/crud/:entity/:id` → one path segment per parameter; `*` → anything.
    const source = url
      .split('/')
      .map((part) =>
        part.startsWith(':') ? '[^/]+' : part === '*' ? '.*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
      )
      .join('/');
    const pattern = new RegExp(`^${source}/?$`);
    let route = this.routes.find((r) => r.pattern.source === pattern.source);
    if (!route) this.routes.push((route = { pattern, methods: new Set() }));
    for (const method of Array.isArray(methods) ? methods : [methods]) route.methods.add(method);
  }

  /** Every method some route serves at `path` (empty when no route matches it). */
  allowed(path: string): string[] {
    const methods = new Set<string>();
    for (const route of this.routes)
      if (route.pattern.test(path)) for (const m of route.methods) methods.add(m);
    return [...methods].sort();
  }
}

function pathOf(url: string): string {
  const end = url.search(/[?#]/);
  return end < 0 ? url : url.slice(0, end);
}

function methodNotAllowed(method: string, allowed: string[]) {
  return {
    statusCode: 405,
    error: 'method_not_allowed',
    message: `${method} is not served here; this path serves ${allowed.join(', ')}`,
  };
}

/**
 * The refusals every choreo HTTP app makes the same way, none of them a 5xx or a dropped
 * connection: 405 with `Allow` for a method a path does not serve (CONNECT too, which Node would
 * otherwise answer by destroying the socket), and a 413 whose unread body is drained so the client
 * reads the answer instead of a reset.
 */
export function installRefusals(fastify: FastifyInstance): void {
  const routes = new RouteMethods();
  fastify.addHook('onRoute', (route) => routes.add(route.url, route.method));

  fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done) => {
    // Only requests no route matched (Fastify's 404 path) are checked.
    if (request.routeOptions.url !== undefined) return done();
    const allowed = routes.allowed(pathOf(request.url));
    if (allowed.length === 0) return done();
    void reply.header('Allow', allowed.join(', '));
    if (request.method === 'OPTIONS') void reply.code(204).send();
    else void reply.code(405).send(methodNotAllowed(request.method, allowed));
  });

  fastify.addHook('onSend', (request: FastifyRequest, reply: FastifyReply, payload, done) => {
    // Fastify refuses an over-limit body without reading the rest of it and asks for the connection
    // to close: Node then closes the socket with the upload still arriving, a TCP reset that makes
    // the client's kernel drop the unread 413. Reading and discarding the rest (bounded) on a
    // connection that stays open lets the answer arrive.
    if (reply.statusCode === 413 && !request.raw.readableEnded) {
      reply.removeHeader('connection');
      drain(request.raw);
    }
    done(null, payload);
  });

  fastify.server.on('connect', (request: IncomingMessage, socket: Duplex) => {
    const allowed = request.url?.startsWith('/') ? routes.allowed(pathOf(request.url)) : [];
    const body = JSON.stringify(
      allowed.length > 0
        ? methodNotAllowed('CONNECT', allowed)
        : {
            statusCode: 405,
            error: 'method_not_allowed',
            message: 'CONNECT is not served: this is not a proxy',
          },
    );
    socket.on('error', () => socket.destroy());
    socket.end(
      'HTTP/1.1 405 Method Not Allowed\r\n' +
        `Allow: ${allowed.join(', ')}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  });
}

/** Past this many discarded bytes the client is not sending a body but a flood: close. */
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;

function drain(request: IncomingMessage): void {
  let drained = 0;
  request.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > MAX_DRAIN_BYTES) request.socket.destroy();
  });
  request.on('error', () => undefined);
  request.resume();
}
