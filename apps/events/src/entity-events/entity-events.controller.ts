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
import type { Response } from 'express';
import { BearerAuthGuard, etagOf, parseIfMatch, validateWith } from '@choreo/http';
import type { EntityRow } from '@choreo/persistence';
import { idempotencyHeaders } from '../orders/order.dto';
import { correlationOf } from '../orders/request-context';
import { EntityEventsService, EntityWrite } from './entity-events.service';

function answer(response: Response, write: EntityWrite): EntityRow | undefined {
  response.setHeader('X-Event-ID', write.eventId);
  if (write.replayed) response.setHeader('Idempotent-Replayed', 'true');
  if (!write.row) return undefined;
  response.setHeader('ETag', etagOf(write.row));
  return write.row;
}

/** Writes of every declared entity on the events path: each row change commits with its event. */
@Controller('events')
@UseGuards(BearerAuthGuard)
export class EntityEventsController {
  constructor(private readonly entityEvents: EntityEventsService) {}

  @Post(':entity')
  @HttpCode(201)
  async create(
    @Param('entity') entity: string,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Headers('x-correlation-id') correlation: string | undefined,
    @Res({ passthrough: true }) response: Response,
  ) {
    const key = validateWith(idempotencyHeaders, { 'Idempotency-Key': idempotencyKey }, 'headers')[
      'Idempotency-Key'
    ];
    const correlationId = correlationOf(correlation, response);
    const write = await this.entityEvents.create(entity, body, { correlationId, idempotencyKey: key });
    const id = String(write.row?.[this.entityEvents.primaryKeyOf(entity)]);
    response.setHeader('Location', `/crud/${entity}/${encodeURIComponent(id)}`);
    return answer(response, write);
  }

  @Patch(':entity/:id')
  async update(
    @Param('entity') entity: string,
    @Param('id') id: string,
    @Body() patch: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Headers('x-correlation-id') correlation: string | undefined,
    @Res({ passthrough: true }) response: Response,
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
    @Res({ passthrough: true }) response: Response,
  ): Promise<void> {
    const correlationId = correlationOf(correlation, response);
    answer(
      response,
      await this.entityEvents.remove(entity, id, { correlationId, ifMatch: parseIfMatch(ifMatch) }),
    );
  }
}
