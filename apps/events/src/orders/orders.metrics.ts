import { Counter } from 'prom-client';
import { metricsRegistry } from '@choreo/observability';

interface OrdersMetrics {
  placed: Counter<'outcome'>;
  transitions: Counter<'status' | 'trigger'>;
  consumed: Counter<'type' | 'outcome'>;
}

let metrics: OrdersMetrics | undefined;

// Created on first use and shared: a second app instance in one process must not register twice.
export function ordersMetrics(): OrdersMetrics {
  metrics ??= {
    placed: new Counter({
      name: 'orders_placed_total',
      help: 'POST /orders by outcome: created, replayed, insufficient_stock, unknown_product',
      labelNames: ['outcome'],
      registers: [metricsRegistry()],
    }),
    transitions: new Counter({
      name: 'order_transitions_total',
      help: 'Order status changes committed, by new status and trigger (api or event)',
      labelNames: ['status', 'trigger'],
      registers: [metricsRegistry()],
    }),
    consumed: new Counter({
      name: 'order_driving_events_total',
      help: 'Kitchen and courier events handled, by type and outcome (applied, duplicate, stale, ignored, failed)',
      labelNames: ['type', 'outcome'],
      registers: [metricsRegistry()],
    }),
  };
  return metrics;
}
