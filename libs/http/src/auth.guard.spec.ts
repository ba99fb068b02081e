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

describe('BearerAuthGuard', () => {
  const tokens = ['first-token-0123456789', 'second-token-0123456789'];

  it('lets reads through unless reads are protected', async () => {
    await expect(
      new BearerAuthGuard({ tokens, protectReads: false }).canActivate(contextFor('GET').context),
    ).resolves.toBe(true);
    await expect(
      new BearerAuthGuard({ tokens, protectReads: true }).canActivate(contextFor('GET').context),
    ).rejects.toThrow(UnauthorizedException);
  });

  it('answers 401 with WWW-Authenticate for a write without a bearer token', async () => {
    const sut = new BearerAuthGuard({ tokens, protectReads: false });
    const { context, headers } = contextFor('POST');
    await expect(sut.canActivate(context)).rejects.toThrow(UnauthorizedException);
    expect(headers['WWW-Authenticate']).toBe('Bearer realm="choreo"');
    await expect(sut.canActivate(contextFor('DELETE', 'Basic abc').context)).rejects.toThrow(
      UnauthorizedException,
    );
  });

  it('answers 403 for an unknown token and accepts every configured one', async () => {
    const sut = new BearerAuthGuard({ tokens, protectReads: true });
    await expect(
      sut.canActivate(contextFor('PATCH', 'Bearer first-token-012345678').context),
    ).rejects.toThrow(ForbiddenException);
    await expect(sut.canActivate(contextFor('PATCH', 'Bearer first-token-0123456789').context)).resolves.toBe(
      true,
    );
    await expect(sut.canActivate(contextFor('GET', 'bearer second-token-0123456789').context)).resolves.toBe(
      true,
    );
  });
});
