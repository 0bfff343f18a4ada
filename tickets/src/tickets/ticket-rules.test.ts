import fc from 'fast-check';
import { hasAtMostTwoDecimals, MAX_PRICE } from './ticket-rules';

describe('price precision rule', () => {
  it('when a price is a whole number of cents up to the maximum, then it is accepted (despite binary floating point)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_PRICE * 100 }), (cents) => hasAtMostTwoDecimals(cents / 100)),
      { numRuns: 10_000 },
    );
  });

  it('when a price has a non-zero third decimal, then it is rejected', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_PRICE * 100 }), fc.integer({ min: 1, max: 9 }), (cents, tenthOfCent) => {
        return !hasAtMostTwoDecimals((cents * 10 + tenthOfCent) / 1000);
      }),
      { numRuns: 10_000 },
    );
  });
});
