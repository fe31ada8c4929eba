// Types of `require('tokenward')`: the addon's (native.d.ts, generated from the Rust doc
// comments by `napi build`) and `verifyRecord`, shaped in index.js.
import type { ApiKey, KeyUpdate, VerifyOptions } from './native'

export * from './native'

/** A token that authenticated: its key, and the refresh to write back (`null`: nothing). */
export interface Verified {
  /** The key, as fetched (before `update`). */
  key: ApiKey
  /** The refresh to write back, or `null`. */
  update: KeyUpdate | null
}

/**
 * Checks a presented token against the record the host fetched for its id (`null`: no row),
 * as Coder's middleware does: the id, the secret's hash (in constant time), the expiry; then
 * decides the refresh. Returns `{key, update}`: write `update` back when it is not `null`. A
 * token that does not authenticate throws an `Error` whose `code` says why
 * (`'TOKENWARD_EXPIRED'`, ...), carrying Coder's answer.
 */
export declare function verifyRecord(
  token: string,
  key: ApiKey | null,
  options?: VerifyOptions | undefined | null,
): Verified
