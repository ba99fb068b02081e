import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import type { Response } from 'express';
import { randomUUID } from 'node:crypto';
import { ORDER_ACTIONS, isOrderAction } from './order-state-machine';
import { OrdersService } from './orders.service';
import {
  idempotencyKeyHeader,
  listOrdersQuery,
  orderActionBody,
  orderIdParam,
  placeOrderBody,
} from './order.dto';
import { parseInput } from './validation';

const VALID_CORRELATION_ID = /^[\w.:-]{1,128}$/;

/** The caller's X-Correlation-ID when well-formed, else a new one; echoed on the response. */
function correlationOf(given: string | undefined, res: Response): string {
  const correlationId = given && VALID_CORRELATION_ID.test(given) ? given : randomUUID();
  res.setHeader('X-Correlation-ID', correlationId);
  return correlationId;
}

@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Post()
  async place(
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Headers('x-correlation-id') correlation: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const correlationId = correlationOf(correlation, res);
    const key = parseInput(idempotencyKeyHeader, idempotencyKey, 'header.Idempotency-Key');
    const placed = await this.orders.placeOrder(parseInput(placeOrderBody, body, 'body'), {
      correlationId,
      idempotencyKey: key,
    });
    res.status(201).location(`/orders/${placed.order.id}`).setHeader('X-Event-ID', placed.eventId);
    if (placed.replayed) res.setHeader('Idempotent-Replayed', 'true');
    return { ...placed.order, tracking: placed.tracking };
  }

  @Get()
  list(@Query() query: unknown) {
    return this.orders.listOrders(parseInput(listOrdersQuery, query, 'query'));
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.orders.getOrder(parseInput(orderIdParam, id, 'path.id'));
  }

  @Post(':id/:action')
  @HttpCode(200)
  async act(
    @Param('id') id: string,
    @Param('action') action: string,
    @Body() body: unknown,
    @Headers('x-correlation-id') correlation: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const orderId = parseInput(orderIdParam, id, 'path.id');
    if (!isOrderAction(action)) {
      throw new NotFoundException(
        `no order action ${action}; actions: ${Object.keys(ORDER_ACTIONS).join(', ')}`,
      );
    }
    const { reason } = parseInput(orderActionBody, body, 'body');
    const moved = await this.orders.moveOrder(orderId, ORDER_ACTIONS[action], {
      correlationId: correlationOf(correlation, res),
      reason,
    });
    res.setHeader('X-Event-ID', moved.eventId);
    return moved.order;
  }
}
