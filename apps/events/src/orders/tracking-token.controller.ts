import { Controller, Headers, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';
import {
  ApiError,
  RateLimitGuard,
  validateWith,
  signTrackingToken,
  verifyTrackingToken,
  type TrackingOptions,
  type TrackingToken,
} from '@choreo/http';
import { orderIdParams } from './order.dto';
import { TRACKING_OPTIONS } from './orders.service';

/**
 * `POST /orders/:id/tracking-token`: a fresh tracking token for an order, authorised by the
 * still-valid one (not by an API token: whoever tracks an order holds only its token). Verified
 * locally, like notifications does, with no database call; a client renews before `expires_at` and
 * keeps its subscription.
 */
@Controller('orders')
@UseGuards(RateLimitGuard)
export class TrackingTokenController {
  constructor(@Inject(TRACKING_OPTIONS) private readonly tracking: TrackingOptions) {}

  @Post(':id/tracking-token')
  @HttpCode(200)
  async renew(
    @Param('id') orderId: string,
    @Headers('authorization') authorization: string | undefined,
  ): Promise<TrackingToken> {
    validateWith(orderIdParams, { id: orderId }, 'path');
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (!token) {
      throw new ApiError(
        401,
        'unauthorized',
        'renewing a tracking token needs the current one: Authorization: Bearer <tracking token>',
      );
    }
    let claims: Awaited<ReturnType<typeof verifyTrackingToken>>;
    try {
      claims = await verifyTrackingToken(token, this.tracking.secret);
    } catch (error) {
      throw new ApiError(401, 'unauthorized', `tracking token refused: ${(error as Error).message}`);
    }
    if (claims.orderId !== orderId) {
      throw new ApiError(403, 'forbidden', 'the tracking token is for another order');
    }
    return signTrackingToken(orderId, this.tracking.secret, this.tracking.ttlSeconds);
  }
}
