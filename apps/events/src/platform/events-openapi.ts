import { Injectable, Provider } from '@nestjs/common';
import type { OpenApiFragment } from '@choreo/http';

/**
 * The OpenAPI fragments of the events app's routes. Feature modules add theirs while their providers
 * are built (`eventsOpenApiFragment`); the platform serves the document once, at module init, before
 * Nest's 404 handler is registered.
 */
@Injectable()
export class EventsOpenApi {
  private readonly fragments: OpenApiFragment[] = [];

  add(fragment: OpenApiFragment): void {
    this.fragments.push(fragment);
  }

  all(): readonly OpenApiFragment[] {
    return this.fragments;
  }
}

/** A provider that adds a feature module's fragment to the app's OpenAPI document. */
export function eventsOpenApiFragment(name: string, fragment: () => OpenApiFragment): Provider {
  return {
    provide: `${name}_OPENAPI`,
    useFactory: (openApi: EventsOpenApi) => openApi.add(fragment()),
    inject: [EventsOpenApi],
  };
}
