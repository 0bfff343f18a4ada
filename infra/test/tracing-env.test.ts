/**
 * Traces in the cluster: each service's Deployment configures the OpenTelemetry SDK only through
 * the standard OTEL_* variables, with an endpoint that the NetworkPolicies let it reach.
 */
import { tracingRequested } from '../../common/src/tracing/sdk';
import { imageOf, named, ofKind, SERVICES, type ServiceName } from './manifests';
import { APP_NAMESPACE, connectionAllowed, type Endpoint } from './network-policy';
import { appContainer } from './service-routing';

/** The samplers the SDK knows (OTEL_TRACES_SAMPLER); anything else falls back with a warning. */
const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'];

describe.each(SERVICES)('the %s Deployment’s tracing', (service: ServiceName) => {
  const env = () =>
    Object.fromEntries(
      (appContainer(service, imageOf(service)).env ?? []).filter((e) => e.name.startsWith('OTEL_')).map((e) => [e.name, e.value]),
    );
  const pod = (): Endpoint => ({
    name: `Deployment ${service}`,
    namespace: APP_NAMESPACE,
    labels: named(ofKind('Deployment'), service, 'Deployment').spec?.template.metadata?.labels ?? {},
  });

  it('names the service, an OTLP/HTTP endpoint and a known sampler, which starts the SDK', () => {
    const otel = env();
    expect(otel.OTEL_SERVICE_NAME).toBe(service);
    expect(['http/protobuf', 'http/json']).toContain(otel.OTEL_EXPORTER_OTLP_PROTOCOL);
    expect(new URL(otel.OTEL_EXPORTER_OTLP_ENDPOINT!).protocol).toBe('http:');
    expect(SAMPLERS).toContain(otel.OTEL_TRACES_SAMPLER);
    if (otel.OTEL_TRACES_SAMPLER?.endsWith('traceidratio')) {
      const ratio = Number(otel.OTEL_TRACES_SAMPLER_ARG);
      expect(ratio > 0 && ratio <= 1).toBe(true);
    }
    expect(tracingRequested(otel)).toBe(true);
  });

  it('may reach the collector its endpoint names (a Service of another namespace), and only on its port', () => {
    const endpoint = new URL(env().OTEL_EXPORTER_OTLP_ENDPOINT!);
    const [, namespace = APP_NAMESPACE] = endpoint.hostname.split('.');
    const port = Number(endpoint.port || 80);
    const collector: Endpoint = { name: 'the collector', namespace, labels: { 'app.kubernetes.io/name': 'opentelemetry-collector' } };
    const policies = ofKind('NetworkPolicy');
    expect(connectionAllowed(policies, pod(), collector, port)).toBe(true);
    expect(connectionAllowed(policies, pod(), collector, 27017)).toBe(false);
    expect(connectionAllowed(policies, pod(), { ...collector, namespace: 'default' }, port)).toBe(false);
  });
});
