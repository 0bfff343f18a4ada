/**
 * Prometheus finds both services by their pod annotations and scrapes GET /metrics on the app's
 * own port; the edge (the Ingress and the Gateway's routes) never sends /metrics to them, so only
 * the cluster's scraper reads it.
 */
import { imageOf, named, ofKind, SERVICES } from './manifests';
import { httpRouteRoutes, ingressRoutes } from './routes';
import { appContainer } from './service-routing';

describe.each(SERVICES)('the %s Deployment, for Prometheus', (service) => {
  const deployment = named(ofKind('Deployment'), service, 'Deployment');
  const annotations = deployment.spec?.template.metadata?.annotations ?? {};

  it('asks to be scraped at /metrics, on a port its app container listens on', () => {
    expect(annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/path': '/metrics' });
    const ports = (appContainer(service, imageOf(service)).ports ?? []).map((p) => String(p.containerPort));
    expect(ports).toContain(annotations['prometheus.io/port']);
  });

  it('is not reached at /metrics from outside: no edge route whose prefix covers it leads to the service', () => {
    const edgeRoutes = [...ingressRoutes(), ...httpRouteRoutes()];
    expect(edgeRoutes.length).toBeGreaterThan(0);
    const exposing = edgeRoutes.filter((r) => r.service === service && '/metrics'.startsWith(r.pathPrefix));
    expect(exposing).toEqual([]);
  });
});
