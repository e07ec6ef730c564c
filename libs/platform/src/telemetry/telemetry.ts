import { NodeSDK } from '@opentelemetry/sdk-node';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';

let sdk: NodeSDK | undefined;

/**
 * Starts OpenTelemetry once per process, before Nest or any HTTP module loads, so incoming and
 * outgoing HTTP calls carry W3C trace context. Spans are exported only when an OTLP endpoint is
 * configured (OTEL_EXPORTER_OTLP_ENDPOINT); otherwise context still propagates, nothing is sent.
 */
export function startTelemetry(serviceName: string): void {
  if (sdk) return;
  process.env['OTEL_SERVICE_NAME'] ??= serviceName;
  const exporting = Boolean(
    process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] ?? process.env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'],
  );
  if (!exporting) process.env['OTEL_TRACES_EXPORTER'] ??= 'none';
  process.env['OTEL_METRICS_EXPORTER'] ??= 'none';
  process.env['OTEL_LOGS_EXPORTER'] ??= 'none';
  sdk = new NodeSDK({
    instrumentations: [
      new HttpInstrumentation({
        // Probes would drown real traffic in spans.
        ignoreIncomingRequestHook: (request) =>
          request.url === '/healthz' || request.url === '/readyz',
      }),
    ],
  });
  sdk.start();
}

export async function stopTelemetry(): Promise<void> {
  await sdk?.shutdown();
  sdk = undefined;
}
