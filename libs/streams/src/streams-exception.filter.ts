import { ArgumentsHost, Catch, RpcExceptionFilter } from '@nestjs/common';
import { Observable, throwError } from 'rxjs';

/**
 * Passes a handler's error to the transport unchanged. Nest's default RPC filter replaces unknown errors
 * with "Internal server error", which is what `dlq_error` would then say; with
 * `@UseFilters(new StreamsExceptionFilter())` on a handler class the dead letter names the real cause.
 */
@Catch()
export class StreamsExceptionFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown, _host: ArgumentsHost): Observable<never> {
    return throwError(() => exception);
  }
}
