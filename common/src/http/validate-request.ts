import type { RequestHandler } from 'express';
import { validationResult } from 'express-validator';
import { ValidationError } from './errors';

/** Turns express-validator's findings into one 400 naming each field. */
export const validateRequest: RequestHandler = (req, _res, next) => {
  const result = validationResult(req);
  if (!result.isEmpty()) {
    throw new ValidationError(
      result.array({ onlyFirstError: true }).map((e) => ({
        message: String(e.msg),
        ...(e.type === 'field' ? { field: e.path } : {}),
      })),
    );
  }
  next();
};
