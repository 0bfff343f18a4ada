import { OrderStatus } from '@ticketing/common';
import { Types } from 'mongoose';
import { Order } from './order.model';
import { orderView } from './order-view';

describe('orderView, the one JSON shape of an order', () => {
  it('when an order is shown, then it has `id`, its fields and its ticket, never `_id`, `__v` or the outbox', () => {
    const ticket = { _id: new Types.ObjectId(), title: 'opera', price: 45 };
    const order = new Order({
      userId: 'u-1',
      status: OrderStatus.Created,
      expiresAt: new Date('2030-01-01T00:00:00Z'),
      ticket: ticket._id,
    });
    order.outbox.push({ msgId: 'm', subject: 's', payload: '{}' });

    const json = JSON.parse(JSON.stringify(orderView(order, ticket)));

    expect(json).toMatchObject({
      id: order.id,
      userId: 'u-1',
      status: 'created',
      ticket: { id: ticket._id.toHexString(), title: 'opera', price: 45 },
    });
    expect(json).not.toHaveProperty('_id');
    expect(json).not.toHaveProperty('__v');
    expect(json).not.toHaveProperty('outbox');
  });
});
