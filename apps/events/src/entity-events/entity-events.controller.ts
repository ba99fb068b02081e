import {
  Body,
  Controller,
  Delete,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { BearerAuthGuard, RateLimitGuard, etagOf, parseIfMatch } from '@choreo/http';
import { JsonBodyGuard } from '@choreo/runtime';
import type { EntityRow } from '@choreo/persistence';
import { correlationOf, idempotencyKeyOf } from '../platform/request-context';
import { EntityEventsService, EntityWrite } from './entity-events.service';

function answer(response: FastifyReply, write: EntityWrite): EntityRow | undefined {
  void response.header('X-Event-ID', write.eventId);
  if (write.replayed) void response.header('Idempotent-Replayed', 'true');
  if (!write.row) return undefined;
  void response.header('ETag', etagOf(write.row));
  return write.row;
}

/** Writes of every declared entity on the events path: each row change commits with its event. */
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
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    const key = idempotencyKeyOf(idempotencyKey);
    const correlationId = correlationOf(correlation, response);
    const write = await this.entityEvents.create(entity, body, { correlationId, idempotencyKey: key });
    const id = String(write.row?.[this.entityEvents.primaryKeyOf(entity)]);
    void response.header('Location', `/crud/${entity}/${encodeURIComponent(id)}`);
    return answer(response, write);
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
