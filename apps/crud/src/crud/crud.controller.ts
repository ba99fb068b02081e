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
import { QueryInput, nextPageLink } from '@choreo/entities';
import {
  BearerAuthGuard,
  RateLimitGuard,
  acceptedShape,
  contentRange,
  etagOf,
  parseIfMatch,
  parsePrefer,
  parseRange,
  shapeRows,
} from '@choreo/http';
import { JsonBodyGuard } from '@choreo/runtime';
import { EntityRow } from '@choreo/persistence';
import { CrudService, PostgrestAsk } from './crud.service';

/**
 * The raw query string, repeated keys as arrays. Read from the URL rather than `req.query` so a
 * bracket syntax (`a[b]=c`) stays a plain, unknown key whatever query parser the platform is set to.
 */
function queryOf(request: FastifyRequest): QueryInput {
  const query: Record<string, string | string[]> = {};
  const search = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
  for (const [key, value] of new URLSearchParams(search)) {
    const previous = query[key];
    query[key] =
      previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return query;
}

function askOf(request: FastifyRequest): PostgrestAsk {
  return { prefer: parsePrefer(request.headers.prefer), shape: acceptedShape(request.headers.accept) };
}

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
    const query = queryOf(request);
    const { prefer, shape } = askOf(request);
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
    return this.crud.runQuery(entity, name, queryOf(request));
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
    const query = queryOf(request);
    const ask = askOf(request);
    const postgrest =
      ask.prefer.return !== undefined ||
      ask.prefer.resolution !== undefined ||
      ask.shape.singleObject ||
      Object.keys(query).length > 0;
    if (!postgrest) {
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
    return this.written(reply, rows, ask, 201);
  }

  @Patch(':entity')
  async updateWhere(
    @Param('entity') entity: string,
    @Body() patch: unknown,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const ask = askOf(request);
    const rows = await this.crud.updateWhere(entity, queryOf(request), patch, ask);
    return this.written(reply, rows, ask, 204);
  }

  @Delete(':entity')
  async deleteWhere(
    @Param('entity') entity: string,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const ask = askOf(request);
    const rows = await this.crud.deleteWhere(entity, queryOf(request), ask);
    return this.written(reply, rows, ask, 204);
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

  /**
   * PostgREST's answer to a write: with `return=representation` the rows (an array, or the one
   * object for the single-object type) and 201/200; otherwise no body and 201/204.
   */
  private written(reply: FastifyReply, rows: Record<string, unknown>[], ask: PostgrestAsk, bare: 201 | 204) {
    const counted = ask.prefer.count !== undefined ? rows.length : undefined;
    void reply.header('Content-Range', contentRange(0, rows.length, counted).header);
    if (ask.prefer.applied.length > 0) void reply.header('Preference-Applied', ask.prefer.applied.join(', '));
    if (ask.prefer.return === 'representation') {
      void reply.status(bare === 201 ? 201 : 200);
      return shapeRows(rows, ask.shape);
    }
    void reply.status(bare);
    return undefined;
  }
}
