import { APP_PORTS } from '@choreo/contracts';
import { configSlice, httpConfig, logConfig, redisConfig } from '@choreo/config';
import type { LoadedConfig } from '@choreo/config';
import { z } from 'zod';
import type { CityBox } from './journey/geo';
import { DEFAULT_JOURNEY_SETTINGS as D, JourneySettings } from './journey/journey-settings';

const delayMs = (fallback: number) =>
  z.coerce.number().int().min(0).max(3_600_000).default(fallback).describe('milliseconds 0..3600000');

const cityBox = z
  .string()
  .transform((text, ctx): CityBox => {
    const parts = text.split(',').map((p) => Number(p.trim()));
    const [south, west, north, east] = parts;
    const valid =
      parts.length === 4 &&
      parts.every(Number.isFinite) &&
      south >= -90 &&
      north <= 90 &&
      west >= -180 &&
      east <= 180 &&
      south < north &&
      west < east;
    if (!valid) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be south,west,north,east in degrees, south < north, west < east',
      });
      return z.NEVER;
    }
    return { south, west, north, east };
  })
  .optional()
  .describe('south,west,north,east in degrees, e.g. 48.85,2.34,48.868,2.367');

/** How journeys play (SIM_*): delays, rejection rate, couriers, the city box. */
export const journeyConfig = configSlice(
  () => ({
    SIM_SPEED: z.coerce
      .number()
      .positive()
      .max(10_000)
      .default(1)
      .describe('a factor > 0: 10 plays ten times faster'),
    SIM_REJECT_RATE: z.coerce.number().min(0).max(1).default(D.rejectRate).describe('a share 0..1'),
    SIM_ACCEPT_DELAY_MS: delayMs(D.acceptDelayMs),
    SIM_START_DELAY_MS: delayMs(D.startDelayMs),
    SIM_COOK_DELAY_MS: delayMs(D.cookDelayMs),
    SIM_ASSIGN_DELAY_MS: delayMs(D.assignDelayMs),
    SIM_PICKUP_DELAY_MS: delayMs(D.pickupDelayMs),
    SIM_HANDOVER_DELAY_MS: delayMs(D.handoverDelayMs),
    SIM_LOCATION_INTERVAL_MS: z.coerce
      .number()
      .int()
      .min(100)
      .max(600_000)
      .default(D.locationIntervalMs)
      .describe('milliseconds 100..600000'),
    SIM_COURIER_SPEED_MPS: z.coerce
      .number()
      .positive()
      .max(1_000)
      .default(D.courierSpeedMps)
      .describe('metres per second'),
    SIM_COURIERS: z.coerce
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(D.couriers)
      .describe('an integer 1..100000'),
    SIM_CITY_BOX: cityBox,
    SIM_TICK_MS: z.coerce.number().int().min(5).max(10_000).default(250).describe('milliseconds 5..10000'),
    SIM_CONSUMER: z
      .string()
      .regex(/^[\w.:-]{1,200}$/, 'must be 1..200 letters, digits, _ . : or -')
      .optional()
      .describe('a stable consumer name, e.g. the pod name'),
    SIM_CLAIM_TIMEOUT_MS: z.coerce
      .number()
      .int()
      .min(100)
      .max(3_600_000)
      .default(30_000)
      .describe('milliseconds 100..3600000'),
  }),
  (env): { journey: JourneySettings; tickMs: number; consumer?: string; claimTimeoutMs: number } => ({
    journey: {
      ...D,
      speed: env.SIM_SPEED,
      rejectRate: env.SIM_REJECT_RATE,
      acceptDelayMs: env.SIM_ACCEPT_DELAY_MS,
      startDelayMs: env.SIM_START_DELAY_MS,
      cookDelayMs: env.SIM_COOK_DELAY_MS,
      assignDelayMs: env.SIM_ASSIGN_DELAY_MS,
      pickupDelayMs: env.SIM_PICKUP_DELAY_MS,
      handoverDelayMs: env.SIM_HANDOVER_DELAY_MS,
      locationIntervalMs: env.SIM_LOCATION_INTERVAL_MS,
      courierSpeedMps: env.SIM_COURIER_SPEED_MPS,
      couriers: env.SIM_COURIERS,
      cityBox: env.SIM_CITY_BOX ?? D.cityBox,
    },
    tickMs: env.SIM_TICK_MS,
    consumer: env.SIM_CONSUMER,
    claimTimeoutMs: env.SIM_CLAIM_TIMEOUT_MS,
  }),
);

/** Every environment variable the simulator app reads, validated at start-up. */
export const simulatorConfig = {
  http: httpConfig(APP_PORTS.simulator),
  log: logConfig,
  redis: redisConfig,
  simulation: journeyConfig,
};

export type SimulatorConfig = LoadedConfig<typeof simulatorConfig>;
