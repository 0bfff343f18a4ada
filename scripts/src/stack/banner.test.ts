import { verifySession } from '@ticketing/common/testing';
import { DEV_JWT_KEY } from '../dev-key';
import { startBanner, type BannerStack } from './banner';

const stack: BannerStack = {
  url: 'http://localhost:3000',
  eventBus: 'jetstream',
  natsUrl: 'nats://127.0.0.1:4222',
  tickets: [{ url: 'http://127.0.0.1:4001' }],
  orders: [{ url: 'http://127.0.0.1:4002' }],
  web: { url: 'http://127.0.0.1:4003' },
};
const JWT = /eyJ[\w-]*\.[\w-]*\.[\w-]*/g;

describe('the npm start banner', () => {
  it('when the stack runs with the development key, then it prints a token that the services accept', () => {
    const tokens = startBanner(stack, DEV_JWT_KEY).match(JWT) ?? [];
    expect(tokens).toHaveLength(1);
    expect(verifySession(tokens[0]!, DEV_JWT_KEY)?.user).toEqual({ id: 'dev-user', email: 'dev@ticketing.dev' });
  });

  it('when JWT_KEY is the operator’s own, then it prints no token and no key, only how to make a token', () => {
    const key = 'an-operator-key-0123456789';
    const banner = startBanner(stack, key);
    expect(banner.match(JWT)).toBeNull();
    expect(banner).not.toContain(key);
    expect(banner).toContain('TOKEN=$(npm run -s token)');
    expect(banner).toContain('Authorization: Bearer $TOKEN');
  });
});
