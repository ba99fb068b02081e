import {
  Body,
  Controller,
  Delete,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  BearerAuthGuard,
  RateLimitGuard,
  answerWritten,
  asksPostgrestWrite,
  etagOf,
  parseIfMatch,
  postgrestAskOf,
  rawQueryOf,
} from '@choreo/http';
import { JsonBodyGuard } from '@choreo/runtime';
import type { EntityRow } from '@choreo/persistence';
import { correlationOf, idempotencyKeyOf } from '../platform/request-context';
import { EntityEventsService, EntityWrite, EntityWrites } from './entity-events.service';

function answer(response: FastifyReply, write: EntityWrite): EntityRow | undefined {
  void response.header('X-Event-ID', write.eventId);
  if (write.replayed) void response.header('Idempotent-Replayed', 'true');
  if (!write.row) return undefined;
  void response.header('ETag', etagOf(write.row));
  return write.row;
}

// A write of several rows names each row's event, in row order.
function answerEach(response: FastifyReply, write: EntityWrites): void {
  if (write.eventIds.length > 0) void response.header('X-Event-ID', write.eventIds.join(', '));
  if (write.replayed) void response.header('Idempotent-Replayed', 'true');
}

/**
 * Writes of every declared entity on the events path: each row change commits with its event.
 * One row by id the choreo way (ETags), or PostgREST's way on the collection, as `/crud` does.
 */
@Controller('events')
@UseGuards(RateLimitGuard, BearerAuthGuard, JsonBodyGuard)
export class EntityEventsController {
  constructor(private readonly entityEvents: EntityEventsService) {}

  @Post(':entity')
  @HttpCode(201)
  async create(
    @Param('entity') entity: string,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Headers('x-correlation-id') correlation: string | undefined,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    const query = rawQueryOf(request);
    const ask = postgrestAskOf(request);
    const context = {
      correlationId: correlationOf(correlation, response),
      idempotencyKey: idempotencyKeyOf(idempotencyKey),
    };
    const postgrest = asksPostgrestWrite(ask, query);
    if (!postgrest && !Array.isArray(body)) {
      // choreo's own answer when nothing PostgREST-specific was asked: the row written.
      const write = await this.entityEvents.create(entity, body, context);
      const id = String(write.row?.[this.entityEvents.primaryKeyOf(entity)]);
      void response.header('Location', `/crud/${entity}/${encodeURIComponent(id)}`);
      return answer(response, write);
    }
    const write = await this.entityEvents.insert(entity, body, query, ask, context);
    answerEach(response, write);
    if (!postgrest) return write.rows;
    const key = this.entityEvents.primaryKeyOf(entity);
    if (write.rows.length === 1 && write.rows[0][key] !== undefined)
      void response.header('Location', `/crud/${entity}/${encodeURIComponent(String(write.rows[0][key]))}`);
    return answerWritten(response, write.rows, ask, 201);
  }

  @Patch(':entity')
  async updateWhere(
    @Param('entity') entity: string,
    @Body() patch: unknown,
    @Headers('x-correlation-id') correlation: string | undefined,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    const ask = postgrestAskOf(request);
    const context = { correlationId: correlationOf(correlation, response) };
    const write = await this.entityEvents.updateWhere(entity, rawQueryOf(request), patch, ask, context);
    answerEach(response, write);
    return answerWritten(response, write.rows, ask, 204);
  }

  @Delete(':entity')
  async deleteWhere(
    @Param('entity') entity: string,
    @Headers('x-correlation-id') correlation: string | undefined,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    const ask = postgrestAskOf(request);
    const context = { correlationId: correlationOf(correlation, response) };
    const write = await this.entityEvents.deleteWhere(entity, rawQueryOf(request), ask, context);
    answerEach(response, write);
    return answerWritten(response, write.rows, ask, 204);
  }

  @Patch(':entity/:id')
  async update(
    @Param('entity') entity: string,
    @Param('id') id: string,
    @Body() patch: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Headers('x-correlation-id') correlation: string | undefined,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    const correlationId = correlationOf(correlation, response);
    return answer(
      response,
      await this.entityEvents.update(entity, id, patch, { correlationId, ifMatch: parseIfMatch(ifMatch) }),
    );
  }

  @Delete(':entity/:id')
  @HttpCode(204)
  async remove(
    @Param('entity') entity: string,
    @Param('id') id: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Headers('x-correlation-id') correlation: string | undefined,
    @Res({ passthrough: true }) response: FastifyReply,
  ): Promise<void> {
    const correlationId = correlationOf(correlation, response);
    answer(
      response,
      await this.entityEvents.remove(entity, id, { correlationId, ifMatch: parseIfMatch(ifMatch) }),
    );
  }
}
