import { Controller, Get, Param, Query } from '@nestjs/common';
import { AggregatesService } from './aggregates.service';

/** `GET /aggregates`: the rules; `GET /aggregates/:rule`: their windows; `/late`: what came too late. */
@Controller('aggregates')
export class AggregatesController {
  constructor(private readonly aggregates: AggregatesService) {}

  @Get()
  list() {
    return this.aggregates.list();
  }

  @Get(':rule')
  windows(@Param('rule') rule: string, @Query() query: Record<string, unknown>) {
    return this.aggregates.windows(rule, query);
  }

  @Get(':rule/late')
  late(@Param('rule') rule: string, @Query() query: Record<string, unknown>) {
    return this.aggregates.late(rule, query);
  }
}
