import type { ToxicProxy, ToxiproxyHandle } from '@ticketing/common/testing';
import type { StackOptions } from '../stack/stack';

export type ServiceName = 'tickets' | 'orders';
export const SERVICE_NAMES: ServiceName[] = ['tickets', 'orders'];

/** One service's own links: to each NATS node, and to its MongoDB. */
export interface ServiceLinks {
  nats: ToxicProxy[];
  mongo: ToxicProxy;
}

/**
 * A Toxiproxy proxy for each service's link to each NATS node and to its MongoDB, so that a fault
 * can hit one service's link only (as a network fault in a cluster would), never both at once by
 * accident. `natsServers` are the nodes' `host:port`, `mongoServer` the MongoDB's.
 */
export async function serviceLinks(
  toxiproxy: ToxiproxyHandle,
  natsServers: string[],
  mongoServer: string,
): Promise<Record<ServiceName, ServiceLinks>> {
  const links = async (service: ServiceName): Promise<ServiceLinks> => ({
    nats: await Promise.all(natsServers.map((server, i) => toxiproxy.proxy(`${service}-nats-${i}`, server))),
    mongo: await toxiproxy.proxy(`${service}-mongo`, mongoServer),
  });
  return { tickets: await links('tickets'), orders: await links('orders') };
}

/** The stack's `links` option: each service connects through its own proxies. */
export function stackLinks(links: Record<ServiceName, ServiceLinks>): NonNullable<StackOptions['links']> {
  const of = (l: ServiceLinks) => ({ natsUrl: l.nats.map((p) => `nats://${p.listen}`).join(','), mongoUrl: `mongodb://${l.mongo.listen}` });
  return { tickets: of(links.tickets), orders: of(links.orders) };
}

/** `host:port` of a `nats://host:port` URL. */
export const hostOf = (url: string): string => new URL(url).host;
