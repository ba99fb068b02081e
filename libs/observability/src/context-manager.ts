import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';

let contextManager: AsyncLocalStorageContextManager | undefined;

/**
 * Makes the OpenTelemetry context follow async work (an AsyncLocalStorage), once per process. The
 * correlation id lives in that context, so it must work whether or not tracing was started: in
 * specs and tools, and with OTEL_SDK_DISABLED.
 */
export function installContextManager(): AsyncLocalStorageContextManager {
  if (!contextManager) {
    contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
  }
  return contextManager;
}
