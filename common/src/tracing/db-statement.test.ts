import { Types } from 'mongoose';
import { mongoStatement } from './db-statement';

describe('mongoStatement', () => {
  it('keeps the shape of a command and replaces every value', () => {
    const text = mongoStatement({
      findAndModify: 'tickets',
      query: { _id: new Types.ObjectId(), version: 3 },
      update: { $set: { title: 'secret' } },
    });
    expect(JSON.parse(text)).toEqual({ findAndModify: '?', query: { _id: '?', version: '?' }, update: { $set: { title: '?' } } });
    expect(text).not.toContain('secret');
  });

  it('describes only the first element of an array, and counts the others', () => {
    const updates = [1, 2, 3].map((i) => ({ q: { _id: i }, u: { $set: { price: i, at: new Date() } } }));
    expect(JSON.parse(mongoStatement({ update: 'tickets', updates, tags: [], one: ['a'] }))).toEqual({
      update: '?',
      updates: [{ q: { _id: '?' }, u: { $set: { price: '?', at: '?' } } }, '…2 more'],
      tags: [],
      one: ['?'],
    });
  });

  it('stops at a depth no query reaches', () => {
    let deep: Record<string, unknown> = { v: 1 };
    for (let i = 0; i < 20; i++) deep = { d: deep };
    expect(mongoStatement(deep)).toContain('"…"');
  });
});
