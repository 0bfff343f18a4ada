import { OrderStatus } from '@ticketing/common';
import { Types } from 'mongoose';
import { Order } from './order.model';

describe('Order model JSON', () => {
  it('when an order is turned into JSON, then it shows `id` and its fields, never `_id` or the outbox', () => {
    const ticket = new Types.ObjectId();
    const order = new Order({ userId: 'u-1', status: OrderStatus.Created, expiresAt: new Date('2030-01-01T00:00:00Z'), ticket });
    order.outbox.push({ msgId: 'm', subject: 's', payload: '{}' });

    const json = JSON.parse(JSON.stringify(order));

    expect(json).toMatchObject({ id: order.id, userId: 'u-1', status: 'created', ticket: ticket.toHexString() });
    expect(json).not.toHaveProperty('_id');
    expect(json).not.toHaveProperty('__v');
    expect(json).not.toHaveProperty('outbox');
  });
});
