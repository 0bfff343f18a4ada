import { body, type ValidationChain } from 'express-validator';

/** The event contract caps titles at 200 characters; the API says so first. */
export const MAX_TITLE_LENGTH = 200;
/** Above this a price is a typo or an attack, not a ticket. */
export const MAX_PRICE = 1_000_000;

export const hasAtMostTwoDecimals = (value: number) => Math.round(value * 100) / 100 === value;

/**
 * The body of a create or a full update. Types are checked before anything else so that an
 * object such as `{ "$gt": 0 }` is rejected here and never reaches a query.
 */
export const ticketBodyRules: ValidationChain[] = [
  body('title')
    .exists({ values: 'null' })
    .withMessage('Title is required')
    .bail()
    .isString()
    .withMessage('Title must be a string')
    .bail()
    .trim()
    .notEmpty()
    .withMessage('Title is required')
    .bail()
    .isLength({ max: MAX_TITLE_LENGTH })
    .withMessage(`Title must be at most ${MAX_TITLE_LENGTH} characters`),
  body('price')
    .exists({ values: 'null' })
    .withMessage('Price is required')
    .bail()
    // typeof, not isFloat: a string such as "10" is a client bug we do not guess about
    .custom((value) => typeof value === 'number')
    .withMessage('Price must be a number')
    .bail()
    .custom((value: number) => value > 0)
    .withMessage('Price must be greater than 0')
    .bail()
    // Infinity (what an overflowing literal such as 1e999 parses to) is not a price either
    .custom((value: number) => Number.isFinite(value) && value <= MAX_PRICE)
    .withMessage(`Price must be at most ${MAX_PRICE}`)
    .bail()
    .custom(hasAtMostTwoDecimals)
    .withMessage('Price must have at most 2 decimals'),
];

export interface TicketBody {
  title: string;
  price: number;
}
