import {
  Body,
  Controller,
  Delete,
  Get,
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
import { nextPageLink } from '@choreo/entities';
import {
  BearerAuthGuard,
  RateLimitGuard,
  answerWritten,
  asksPostgrestWrite,
  contentRange,
  etagOf,
  parseIfMatch,
  parseRange,
  postgrestAskOf,
  rawQueryOf,
  shapeRows,
} from '@choreo/http';
import { JsonBodyGuard } from '@choreo/runtime';
import { EntityRow } from '@choreo/persistence';
import { CrudService } from './crud.service';

function withEtag(reply: FastifyReply, row: EntityRow): EntityRow {
  void reply.header('ETag', etagOf(row));
  return row;
}

/**
 * REST over every declared entity, PostgREST's dialect on the collection (`/crud/:entity?filters`
 * with Prefer, Range and Accept) and choreo's own on one row (`/crud/:entity/:id` with ETags), and
 * named queries at `/crud/:entity/queries/:name`.
 */
@Controller('crud')
@UseGuards(RateLimitGuard, BearerAuthGuard, JsonBodyGuard)
export class CrudController {
  constructor(private readonly crud: CrudService) {}

  @Get(':entity')
  async list(
    @Param('entity') entity: string,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const query = rawQueryOf(request);
    const { prefer, shape } = postgrestAskOf(request);
    const range = parseRange(request.headers.range as string | undefined);
    // A Range header pages like limit/offset; the query string wins where it says something.
    if (range && query.offset === undefined && query.cursor === undefined)
      query.offset = String(range.offset);
    if (range?.limit !== undefined && query.limit === undefined) query.limit = String(range.limit);
    const page = await this.crud.list(entity, query, prefer.count);
    const answer = contentRange(page.offset, page.rows.length, page.total);
    void reply.header('Content-Range', answer.header).header('Range-Unit', 'items');
    if (prefer.applied.length > 0) void reply.header('Preference-Applied', prefer.applied.join(', '));
    void reply.status(answer.status);
    // The next page is also a Link header (RFC 8288), as GitHub's API does: keyset, not offset.
    if (page.nextCursor !== undefined) {
      void reply.header('Link', nextPageLink(`/crud/${entity}`, query, page.nextCursor));
    }
    return shapeRows(page.rows, shape);
  }

  @Get(':entity/queries/:name')
  runQuery(@Param('entity') entity: string, @Param('name') name: string, @Req() request: FastifyRequest) {
    return this.crud.runQuery(entity, name, rawQueryOf(request));
  }

  @Get(':entity/:id')
  async get(
    @Param('entity') entity: string,
    @Param('id') id: string,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    return withEtag(response, await this.crud.get(entity, id));
  }

  @Post(':entity')
  @HttpCode(201)
  async create(
    @Param('entity') entity: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const query = rawQueryOf(request);
    const ask = postgrestAskOf(request);
    if (!asksPostgrestWrite(ask, query)) {
      // choreo's own answer when nothing PostgREST-specific was asked: the row (or rows) written.
      const created = await this.crud.create(entity, body);
      if (Array.isArray(created)) return created;
      const id = String(created[this.crud.primaryKeyOf(entity)]);
      void reply.header('Location', `/crud/${entity}/${encodeURIComponent(id)}`);
      return withEtag(reply, created);
    }
    const rows = await this.crud.insert(entity, body, query, ask);
    const key = this.crud.primaryKeyOf(entity);
    if (rows.length === 1 && rows[0][key] !== undefined)
      void reply.header('Location', `/crud/${entity}/${encodeURIComponent(String(rows[0][key]))}`);
    return answerWritten(reply, rows, ask, 201);
  }

  @Patch(':entity')
  async updateWhere(
    @Param('entity') entity: string,
    @Body() patch: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const ask = postgrestAskOf(request);
    const rows = await this.crud.updateWhere(entity, rawQueryOf(request), patch, ask);
    return answerWritten(reply, rows, ask, 204);
  }

  @Delete(':entity')
  async deleteWhere(
    @Param('entity') entity: string,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const ask = postgrestAskOf(request);
    const rows = await this.crud.deleteWhere(entity, rawQueryOf(request), ask);
    return answerWritten(reply, rows, ask, 204);
  }

  @Patch(':entity/:id')
  async update(
    @Param('entity') entity: string,
    @Param('id') id: string,
    @Body() patch: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) response: FastifyReply,
  ) {
    return withEtag(response, await this.crud.update(entity, id, patch, parseIfMatch(ifMatch)));
  }

  @Delete(':entity/:id')
  @HttpCode(204)
  async remove(
    @Param('entity') entity: string,
    @Param('id') id: string,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<void> {
    await this.crud.remove(entity, id, parseIfMatch(ifMatch));
  }
}
