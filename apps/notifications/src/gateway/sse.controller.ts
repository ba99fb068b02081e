import { Body, Controller, Get, HttpException, Inject, Post, Req, Res } from '@nestjs/common';
import { decodeSseCursor, parseChannel, StreamPosition } from '@choreo/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import { Realtime } from '../realtime';
import { SSE_HEAD, SseChannel, SseStream } from './sse-stream';

const TICKET_TTL_SECONDS = 60;
const MAX_SSE_CHANNELS = 20;

interface ChannelGrant {
  channel: string;
  token?: string;
}

/**
 * Server-Sent Events at `/sse?channel=…` for `curl -N` and EventSource: the same channels, offsets
 * and authorisation as `/ws`. A token travels in `Authorization: Bearer …` (never in the URL), or is
 * exchanged first for a short single-use ticket (`POST /sse/tickets`) that EventSource can put in
 * the URL. `Last-Event-ID` (or `?last_event_id=`) resumes every channel of the stream.
 */
@Controller()
export class SseController {
  constructor(@Inject(Realtime) private readonly realtime: Realtime) {}

  @Get('sse')
  async stream(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const query = request.query as Record<string, string | string[] | undefined>;
    // HEAD checks what GET would answer: it spends no ticket and opens no stream (Node sends no
    // head of a body-less answer until it ends, so a stream would leave the client waiting forever).
    const head = request.method === 'HEAD';
    const grants = query['ticket']
      ? await this.redeem(String(query['ticket']), head)
      : this.fromQuery(query, bearer(request));
    const cursorText = request.headers['last-event-id'] ?? query['last_event_id'];
    const cursor = typeof cursorText === 'string' ? decodeSseCursor(cursorText) : undefined;
    const channels = await this.authorise(grants, cursor);
    reply.hijack();
    if (head) return void reply.raw.writeHead(200, SSE_HEAD).end();
    await new SseStream(reply.raw, this.realtime.context).start(channels);
  }

  @Post('sse/tickets')
  async ticket(@Body() body: unknown): Promise<{ ticket: string; expires_at: string }> {
    const channels = (body as { channels?: unknown } | undefined)?.channels;
    if (!Array.isArray(channels) || channels.length === 0 || channels.length > MAX_SSE_CHANNELS) {
      throw problem(
        400,
        'validation_failed',
        `channels must be a list of 1..${MAX_SSE_CHANNELS} { channel, token? }`,
      );
    }
    const grants: ChannelGrant[] = channels.map((entry: unknown, i) => {
      const { channel, token } = (entry ?? {}) as Record<string, unknown>;
      if (typeof channel !== 'string')
        throw problem(400, 'validation_failed', `channels.${i}.channel must be a string`);
      if (token !== undefined && typeof token !== 'string')
        throw problem(400, 'validation_failed', `channels.${i}.token must be a string`);
      return { channel, token };
    });
    await this.authorise(grants, undefined);
    const ticket = randomUUID();
    await redisOr503(
      this.realtime.commands.set(`rt:ticket:${ticket}`, JSON.stringify(grants), 'EX', TICKET_TTL_SECONDS),
    );
    return { ticket, expires_at: new Date(Date.now() + TICKET_TTL_SECONDS * 1000).toISOString() };
  }

  private async redeem(ticket: string, peek: boolean): Promise<ChannelGrant[]> {
    const key = `rt:ticket:${ticket}`;
    const commands = this.realtime.commands;
    const stored = await redisOr503(peek ? commands.get(key) : commands.getdel(key));
    if (!stored)
      throw problem(
        401,
        'invalid_ticket',
        'the ticket is unknown, used or expired: get a new one (POST /sse/tickets)',
      );
    return JSON.parse(stored) as ChannelGrant[];
  }

  private fromQuery(
    query: Record<string, string | string[] | undefined>,
    token: string | undefined,
  ): ChannelGrant[] {
    const raw = query['channel'];
    const names = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw])
      .flatMap((c) => c.split(','))
      .filter(Boolean);
    if (names.length === 0 || names.length > MAX_SSE_CHANNELS) {
      throw problem(
        400,
        'validation_failed',
        `give 1..${MAX_SSE_CHANNELS} channels: /sse?channel=order:<id>&channel=entity:product`,
      );
    }
    return names.map((channel) => ({ channel, token }));
  }

  private async authorise(
    grants: ChannelGrant[],
    cursor: Map<string, StreamPosition> | undefined,
  ): Promise<SseChannel[]> {
    const channels: SseChannel[] = [];
    for (const { channel, token } of grants) {
      let ref;
      try {
        ref = parseChannel(channel);
      } catch (error) {
        throw problem(400, 'unknown_channel', (error as Error).message);
      }
      const verdict = await this.realtime.context.auth.authorize(ref, token);
      if (!verdict.ok)
        throw problem(
          verdict.code === 'forbidden' ? 403 : 401,
          verdict.code,
          `${channel}: ${verdict.message}`,
        );
      channels.push({ channel, ref, since: cursor?.get(channel), expiresAt: verdict.expiresAt });
    }
    return channels;
  }
}

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
}

/** Redis down is not the caller's fault, nor a bug: 503, try again. */
async function redisOr503<T>(command: Promise<T>): Promise<T> {
  try {
    return await command;
  } catch {
    throw problem(503, 'unavailable', 'tickets cannot be stored or read now (Redis): try again');
  }
}

function problem(status: number, error: string, message: string): HttpException {
  return new HttpException({ statusCode: status, error, message }, status);
}
