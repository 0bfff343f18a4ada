import { Schema, model } from 'mongoose';

/**
 * Who may move a record from version v−1 to v. Conditional updates are not enough to decide: the
 * MongoDB-compatible server used in tests and on laptops (FerretDB on SQLite) reads, modifies and
 * rewrites a whole document without atomicity, so two concurrent `updateOne({ version: v−1 })`
 * can both "match" and the later write silently undoes the earlier one. Inserting a unique key is
 * atomic on every server, so each change first inserts its token: one writer per version, ever.
 */
interface ChangeTokenFields {
  /** `<kind>:<record id>:<version>`. */
  _id: string;
  /** The writer that won: a delivery's stream sequence, or a request's random id. */
  owner: string;
  at: Date;
}

const changeTokenSchema = new Schema<ChangeTokenFields>(
  { _id: { type: String, required: true }, owner: { type: String, required: true }, at: { type: Date, required: true } },
  { versionKey: false, collection: 'change_tokens' },
);

export const ChangeToken = model<ChangeTokenFields>('ChangeToken', changeTokenSchema);

/** A token whose change never landed after this long was left by a writer that failed or died. */
export const CHANGE_TOKEN_GRACE_MS = 30_000;

const DUPLICATE_KEY = 11000;

export function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === DUPLICATE_KEY;
}

/**
 * True if `owner` may write the change named by `key`: it inserted the token now, or it already
 * held it (a retry of the same writer), or it took over a token left for longer than the grace
 * period (the caller has checked that the change still has not landed).
 */
export async function takeChangeToken(key: string, owner: string, now: Date = new Date()): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await ChangeToken.create({ _id: key, owner, at: now });
      return true;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    const held = await ChangeToken.findById(key).lean();
    if (!held) continue; // given back in between
    if (held.owner === owner) return true;
    if (now.getTime() - held.at.getTime() <= CHANGE_TOKEN_GRACE_MS) return false;
    // Abandoned: remove exactly that token (not one a faster writer put back), then compete again.
    await ChangeToken.deleteOne({ _id: key, owner: held.owner, at: held.at });
  }
  return false;
}

/** Gives a token back after the change it guarded failed, so the next writer need not wait. */
export async function giveBackChangeToken(key: string, owner: string): Promise<void> {
  await ChangeToken.deleteOne({ _id: key, owner });
}
