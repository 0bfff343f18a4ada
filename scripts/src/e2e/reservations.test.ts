import { reservationMismatches } from './reservations';

describe('reservationMismatches', () => {
  const none = { heldTwice: [], reservedWithoutOrder: [], orderedNotReserved: [] };

  it('finds nothing when each reserved ticket is held by its one active order, and free tickets by none', () => {
    expect(reservationMismatches([{ _id: 't1', orderId: 'o1' }, { _id: 't2' }], [{ _id: 'o1', ticket: 't1' }])).toEqual(none);
  });

  it('finds a ticket reserved in tickets for an order that is not active (cancelled, or never stored)', () => {
    expect(reservationMismatches([{ _id: 't1', orderId: 'o1' }], [])).toEqual({ ...none, reservedWithoutOrder: ['t1'] });
  });

  it('finds an active order whose reservation never reached tickets', () => {
    expect(reservationMismatches([{ _id: 't1' }], [{ _id: 'o1', ticket: 't1' }])).toEqual({ ...none, orderedNotReserved: ['o1'] });
  });

  it('finds a ticket held by two active orders', () => {
    const found = reservationMismatches(
      [{ _id: 't1', orderId: 'o1' }],
      [
        { _id: 'o1', ticket: 't1' },
        { _id: 'o2', ticket: 't1' },
      ],
    );
    expect(found).toEqual({ ...none, heldTwice: ['t1'], orderedNotReserved: ['o2'] });
  });
});
