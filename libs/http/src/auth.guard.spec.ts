import { ExecutionContext, ForbiddenException, UnauthorizedException } from '@nestjs/common';
import { BearerAuthGuard } from './auth.guard';

function contextFor(method: string, authorization?: string) {
  const headers: Record<string, string> = {};
  const request = { method, headers: authorization === undefined ? {} : { authorization } };
  const response = {
    header(name: string, value: string) {
      headers[name] = value;
      return response;
    },
  };
  const context = {
    switchToHttp: () => ({ getRequest: () => request, getResponse: () => response }),
  } as unknown as ExecutionContext;
  return { context, headers };
}

/** The guard's answer as Nest takes it: awaited, a synchronous throw being a refusal too. */
async function decide(guard: BearerAuthGuard, context: ExecutionContext): Promise<boolean> {
  return guard.canActivate(context);
}

describe('BearerAuthGuard', () => {
  const tokens = ['first-token-0123456789', 'second-token-0123456789'];

  it('lets reads through unless reads are protected', async () => {
    await expect(
      decide(new BearerAuthGuard({ tokens, protectReads: false }), contextFor('GET').context),
    ).resolves.toBe(true);
    await expect(
      decide(new BearerAuthGuard({ tokens, protectReads: true }), contextFor('GET').context),
    ).rejects.toThrow(UnauthorizedException);
  });

  it('answers 401 with WWW-Authenticate for a write without a bearer token', async () => {
    const sut = new BearerAuthGuard({ tokens, protectReads: false });
    const { context, headers } = contextFor('POST');
    await expect(decide(sut, context)).rejects.toThrow(UnauthorizedException);
    expect(headers['WWW-Authenticate']).toBe('Bearer realm="choreo"');
    await expect(decide(sut, contextFor('DELETE', 'Basic abc').context)).rejects.toThrow(
      UnauthorizedException,
    );
  });

  it('answers 403 for an unknown token and accepts every configured one', async () => {
    const sut = new BearerAuthGuard({ tokens, protectReads: true });
    await expect(decide(sut, contextFor('PATCH', 'Bearer first-token-012345678').context)).rejects.toThrow(
      ForbiddenException,
    );
    await expect(decide(sut, contextFor('PATCH', 'Bearer first-token-0123456789').context)).resolves.toBe(
      true,
    );
    await expect(decide(sut, contextFor('GET', 'bearer second-token-0123456789').context)).resolves.toBe(
      true,
    );
  });
});
