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
  UseGuards,
} from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { ORDER_ACTIONS, isOrderAction } from './order-state-machine';
import { OrdersService } from './orders.service';
import { correlationOf, idempotencyKeyOf } from '../platform/request-context';
import { listOrdersQuery, orderActionBody, orderIdParams, placeOrderBody } from './order.dto';
import { BearerAuthGuard, RateLimitGuard, validateWith } from '@choreo/http';
import { JsonBodyGuard } from '@choreo/runtime';

@Controller('orders')
@UseGuards(RateLimitGuard, BearerAuthGuard)
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  // Only placing needs a JSON body: lifecycle actions take an optional one, so
  // `curl -X POST …/confirm` with no Content-Type is fine.
  @Post()
  @UseGuards(JsonBodyGuard)
  async place(
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Headers('x-correlation-id') correlation: string | undefined,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const correlationId = correlationOf(correlation, res);
    const placed = await this.orders.placeOrder(validateWith(placeOrderBody, body, 'body'), {
      correlationId,
      idempotencyKey: idempotencyKeyOf(idempotencyKey),
    });
    void res
      .status(201)
      .header('Location', `/orders/${placed.order.id}`)
      .header('X-Event-ID', placed.eventId);
    if (placed.replayed) void res.header('Idempotent-Replayed', 'true');
    return { ...placed.order, tracking: placed.tracking };
  }

  @Get()
  list(@Query() query: unknown) {
    return this.orders.listOrders(validateWith(listOrdersQuery, query, 'query'));
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.orders.getOrder(validateWith(orderIdParams, { id }, 'path').id);
  }

  @Post(':id/:action')
  @HttpCode(200)
  async act(
    @Param('id') id: string,
    @Param('action') action: string,
    @Body() body: unknown,
    @Headers('x-correlation-id') correlation: string | undefined,
    @Res({ passthrough: true }) res: FastifyReply,
  ) {
    const orderId = validateWith(orderIdParams, { id }, 'path').id;
    if (!isOrderAction(action)) {
      throw new NotFoundException(
        `no order action ${action}; actions: ${Object.keys(ORDER_ACTIONS).join(', ')}`,
      );
    }
    const { reason } = validateWith(orderActionBody, body, 'body');
    const moved = await this.orders.moveOrder(orderId, ORDER_ACTIONS[action], {
      correlationId: correlationOf(correlation, res),
      reason,
    });
    void res.header('X-Event-ID', moved.eventId);
    return moved.order;
  }
}
