#!/usr/bin/env node
/**
 * `npm run token -- [--id ID] [--email EMAIL] [--hours N]`: prints a JWT signed with JWT_KEY (or the
 * local stack's dev key), for curl: `-H "Authorization: Bearer $(npm run -s token)"`.
 */
import { DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, signToken } from '@ticketing/common';
import { DEV_JWT_KEY } from './dev-key';
import { parseCommandLine } from './cli';

const USAGE = `
Usage: npm run -s token -- [--id ID] [--email EMAIL] [--hours N]

Prints a JWT signed with JWT_KEY (or the local stack's dev key), for curl:
  -H "Authorization: Bearer $(npm run -s token)"

  --id ID        the user id (default dev-user)
  --email EMAIL  (default dev@ticketing.dev)
  --hours N      validity (default 24; at most JWT_MAX_LIFETIME_SECONDS, 24 h unless set,
                 since the services refuse a token that would live longer)
  --help         this text
`;

const values = parseCommandLine(USAGE, {
  id: { type: 'string', default: 'dev-user' },
  email: { type: 'string', default: 'dev@ticketing.dev' },
  hours: { type: 'string', default: '24' },
});
const hours = Number(values.hours);
if (!(hours > 0)) {
  console.error('token: --hours must be a positive number');
  process.exit(2);
}
// The services refuse a token declaring a longer life: better to say so here than to print one.
const maxSeconds = Number(process.env.JWT_MAX_LIFETIME_SECONDS || DEFAULT_MAX_TOKEN_LIFETIME_SECONDS);
if (Math.round(hours * 3600) > maxSeconds) {
  console.error(
    `token: --hours must be at most ${maxSeconds / 3600} (JWT_MAX_LIFETIME_SECONDS): the services refuse a token that lives longer`,
  );
  process.exit(2);
}
console.log(signToken({ id: values.id, email: values.email }, process.env.JWT_KEY ?? DEV_JWT_KEY, Math.round(hours * 3600)));
