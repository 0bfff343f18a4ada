import { testMongoUrl } from '@ticketing/common/testing';
import mongoose from 'mongoose';
import { CHANGE_TOKEN_GRACE_MS, ChangeToken, giveBackChangeToken, takeChangeToken } from './change-token';

describe('change tokens: one writer per record version (real MongoDB-protocol server)', () => {
  beforeAll(async () => {
    await mongoose.connect(testMongoUrl('orders'));
    await ChangeToken.init();
  });
  afterAll(async () => {
    await mongoose.disconnect();
  });

  const at = (ms: number) => new Date(Date.UTC(2030, 0, 1) + ms);

  it('when 50 writers want the same change at once, then exactly one may write it', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => takeChangeToken('order:race:1', `writer-${i}`, at(0))));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('when the writer that holds a token asks again (a redelivery of the same message), then it still may write', async () => {
    expect(await takeChangeToken('ticket:t1:3', 'seq:41', at(0))).toBe(true);
    expect(await takeChangeToken('ticket:t1:3', 'seq:41', at(5))).toBe(true);
    expect(await takeChangeToken('ticket:t1:3', 'seq:42', at(5))).toBe(false);
  });

  it('when a token is left by a writer that died, then another writer takes it over after the grace period only', async () => {
    expect(await takeChangeToken('order:dead:1', 'dead-writer', at(0))).toBe(true);
    expect(await takeChangeToken('order:dead:1', 'next-writer', at(CHANGE_TOKEN_GRACE_MS))).toBe(false);
    expect(await takeChangeToken('order:dead:1', 'next-writer', at(CHANGE_TOKEN_GRACE_MS + 1))).toBe(true);
    expect(await ChangeToken.findById('order:dead:1').lean()).toMatchObject({ owner: 'next-writer' });
  });

  it('when a writer gives its token back after a failed write, then the next writer may write at once', async () => {
    expect(await takeChangeToken('order:failed:1', 'unlucky', at(0))).toBe(true);
    await giveBackChangeToken('order:failed:1', 'unlucky');
    expect(await takeChangeToken('order:failed:1', 'next', at(1))).toBe(true);
  });
});
