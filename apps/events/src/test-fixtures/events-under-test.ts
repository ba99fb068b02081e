import type { DynamicModule, Type } from '@nestjs/common';
import { EventsPlatformModule, EventsPlatformOptions } from '../platform/events-platform.module';

/** The events app for a spec: its platform with `options` and the feature modules the spec exercises. */
export function eventsUnderTest(
  options: EventsPlatformOptions,
  ...features: (DynamicModule | Type)[]
): DynamicModule {
  return {
    module: class EventsUnderTest {},
    imports: [EventsPlatformModule.forRoot(options), ...features],
  };
}
