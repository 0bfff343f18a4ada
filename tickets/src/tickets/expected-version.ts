import { BadRequestError } from '@ticketing/common';

/** `"3"`, `W/"3"` or a bare `3`: the ETag we hand out is the version in quotes. */
const TAG = /^(?:W\/)?"?(\d{1,15})"?$/;

/**
 * The version the client says it is editing, from `If-Match` or the body's `version`, or
 * undefined when it sent neither (or `If-Match: *`): then the last write wins, but never silently
 * over a concurrent one (the save itself is still version-checked).
 */
export function expectedVersion(ifMatch: string | undefined, bodyVersion: number | undefined): number | undefined {
  let fromHeader: number | undefined;
  const header = ifMatch?.trim();
  if (header && header !== '*') {
    const match = TAG.exec(header);
    if (!match) throw new BadRequestError('If-Match must be the ticket version you last saw, e.g. "3"');
    fromHeader = Number(match[1]);
  }
  if (fromHeader !== undefined && bodyVersion !== undefined && fromHeader !== bodyVersion) {
    throw new BadRequestError('If-Match and version disagree');
  }
  return fromHeader ?? bodyVersion;
}
