import { natsPassword } from './nats-cluster';

describe('natsPassword', () => {
  it('never starts with a digit (nats-server takes such a $VARIABLE for a number and refuses its config)', () => {
    const samples = Array.from({ length: 2000 }, () => natsPassword());
    for (const password of samples) expect(password).toMatch(/^[a-z][0-9a-f]{36}$/);
    expect(new Set(samples).size).toBe(samples.length);
  });
});
