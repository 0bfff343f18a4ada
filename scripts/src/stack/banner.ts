import { signToken } from '@ticketing/common';
import { tracingRequested } from '@ticketing/common/tracing';
import { DEV_JWT_KEY } from '../dev-key';
import type { Stack } from './stack';

/** What the banner shows of a running stack. */
export type BannerStack = Pick<Stack, 'url' | 'eventBus' | 'natsUrl'> & {
  tickets: { url: string }[];
  orders: { url: string }[];
  web: { url: string };
  natsCluster?: { credentials: Record<string, string> };
  mongo?: { url: string; kind: string };
};

/**
 * What `npm start` prints once the stack is up. A ready-made token only with the development key,
 * which is public anyway: with a JWT_KEY of the operator's, a printed token would be a live
 * credential left in the terminal's scrollback and in any log of the command, so the banner says
 * how to make one instead.
 */
export function startBanner(stack: BannerStack, jwtKey: string): string {
  const curl = (token: string) =>
    `  curl -s -X POST ${stack.url}/api/tickets -H 'content-type: application/json' \\
       -H "Authorization: Bearer ${token}" -d '{"title":"concert","price":20}'`;
  const tryIt =
    jwtKey === DEV_JWT_KEY
      ? `try (a development token, valid 24 h):\n${curl(signToken({ id: 'dev-user', email: 'dev@ticketing.dev' }, jwtKey, 24 * 3600))}`
      : `try (JWT_KEY is yours, so no token is printed; npm run token signs one with it):\n  TOKEN=$(npm run -s token)\n${curl('$TOKEN')}`;
  const admin = stack.natsCluster?.credentials.admin;
  return `
ticketing is running on ${stack.url} (open it in a browser: the web app, with a development sign-in)
  tickets: ${stack.tickets.map((p) => p.url).join(', ')}
  orders:  ${stack.orders.map((p) => p.url).join(', ')}
  metrics: ${[...stack.tickets, ...stack.orders].map((p) => `${p.url}/metrics`).join(', ')}
  traces:  ${tracingRequested() ? `to ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? process.env.OTEL_TRACES_EXPORTER}` : 'off (OTEL_EXPORTER_OTLP_ENDPOINT=http://…:4318 npm start: docs/observability.md)'}
  web:     ${stack.web.url}
  ${stack.eventBus === 'jetstream' ? 'nats:   ' : 'stan:   '} ${stack.natsUrl}${admin ? ` (user admin, password ${admin})` : ''}${stack.mongo ? `\n  mongo:   ${stack.mongo.url} (${stack.mongo.kind})` : ''}
${tryIt}
stop with Ctrl-C
`;
}
