// Types of `tokenward/express`: Coder's API-key check as Express middleware.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ApiKey, Authority } from './index'

/**
 * The paths let through without a token (and without `req.tokenward`): a predicate on the
 * path (`req.path` in Express), or a path prefix or prefixes. A prefix matches itself and
 * every path below it (`'/healthz'`: `/healthz`, `/healthz/live`, not `/healthzz`); `'/'`
 * matches everything. A path with a `.` or `..` segment is never skipped.
 */
export type Skip = ((path: string) => boolean) | string | Iterable<string>

/** Options of `tokenward()`. */
export interface TokenwardOptions {
  /** The paths let through unauthenticated. */
  skip?: Skip
}

/** A tokenward error: an `Error` carrying Coder's answer (what the addon throws). */
export interface TokenwardError extends Error {
  /** `'TOKENWARD_MISSING'`, `'TOKENWARD_EXPIRED'`, `'TOKENWARD_STORE_IO'`, ... */
  code: string
  /** The code's stable number. */
  number: number
  /** The HTTP status Coder answers with. */
  status: number
  /** Coder's detail. */
  detail: string
  /** The `WWW-Authenticate` challenge of a rejection, or null. */
  wwwAuthenticate: string | null
  /** Coder's JSON body, newline included. */
  body: string
  /** The answer's headers: `[name, value]` pairs (Content-Type, WWW-Authenticate). */
  headers: Array<[string, string]>
}

/** A request the middleware has seen: `tokenward` is the verified key (absent when skipped). */
export interface TokenwardRequest extends IncomingMessage {
  tokenward?: ApiKey
}

/**
 * The middleware: Express's `(req, res, next)` shape, also usable from a plain `http`
 * handler. Calls `next()` with the key on `req.tokenward`, answers Coder's 401/500 itself,
 * and hands any other error to `next(err)`.
 */
export type TokenwardMiddleware = (
  req: TokenwardRequest,
  res: ServerResponse,
  next: (err?: unknown) => void,
) => void

/**
 * Middleware authenticating every request against `authority` as Coder's API-key middleware
 * does: the token from `req.rawHeaders` and the query of `req.url` (`extractToken`), checked
 * with `req.socket.remoteAddress` (the refresh written), the key put on `req.tokenward`, or
 * Coder's answer byte for byte.
 */
export declare function tokenward(authority: Authority, options?: TokenwardOptions): TokenwardMiddleware

/**
 * Writes the tokenward error `error` on `res` as Coder's answer (status, Content-Type,
 * WWW-Authenticate, Content-Length, body) and ends it. Throws a `TypeError` for any other
 * error.
 */
export declare function answer(res: ServerResponse, error: TokenwardError): void

/** Whether `error` is a tokenward error carrying Coder's answer (`status`, `headers`, `body`). */
export declare function isTokenwardError(error: unknown): error is TokenwardError

export default tokenward

declare global {
  namespace Express {
    interface Request {
      /** The key `tokenward/express` verified for this request (absent on skipped paths). */
      tokenward?: ApiKey
    }
  }
}
