import { HttpException, HttpStatus } from '@nestjs/common';
import type { OrderStatus } from '@choreo/contracts';

/** Every way an order request can be refused; the `error` field of the response body. */
export enum OrderErrorCode {
  NotFound = 'order_not_found',
  UnknownProduct = 'unknown_product',
  InsufficientStock = 'insufficient_stock',
  IllegalTransition = 'illegal_transition',
}

const STATUS_OF: Record<OrderErrorCode, HttpStatus> = {
  [OrderErrorCode.NotFound]: HttpStatus.NOT_FOUND,
  [OrderErrorCode.UnknownProduct]: HttpStatus.UNPROCESSABLE_ENTITY,
  [OrderErrorCode.InsufficientStock]: HttpStatus.CONFLICT,
  [OrderErrorCode.IllegalTransition]: HttpStatus.CONFLICT,
};

/** A refused order request; the HTTP status follows from the code. */
export class OrderError extends HttpException {
  constructor(
    readonly code: OrderErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super({ statusCode: STATUS_OF[code], error: code, message, ...details }, STATUS_OF[code]);
    this.name = 'OrderError';
  }
}

export function orderNotFound(orderId: string): OrderError {
  return new OrderError(OrderErrorCode.NotFound, `order ${orderId} does not exist`, { order_id: orderId });
}

export function unknownProduct(productId: string, index: number): OrderError {
  return new OrderError(
    OrderErrorCode.UnknownProduct,
    `items[${index}]: product ${productId} does not exist`,
    {
      product_id: productId,
    },
  );
}

export function insufficientStock(productId: string, requested: number, available: number): OrderError {
  return new OrderError(
    OrderErrorCode.InsufficientStock,
    `not enough stock for product ${productId}: requested ${requested}, available ${available}`,
    { product_id: productId, requested, available },
  );
}

export function illegalTransition(
  orderId: string,
  current: OrderStatus,
  requested: OrderStatus,
  allowed: readonly OrderStatus[],
): OrderError {
  const options = allowed.length ? allowed.join(', ') : 'none (the order is finished)';
  return new OrderError(
    OrderErrorCode.IllegalTransition,
    `order ${orderId} is ${current}: cannot move to ${requested}; allowed from ${current}: ${options}`,
    { order_id: orderId, current, requested, allowed },
  );
}
