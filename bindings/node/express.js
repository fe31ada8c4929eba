'use strict'

/**
 * `tokenward/express`: Coder's API-key check as Express middleware (Express 4 and 5, or any
 * server calling `(req, res, next)` with Node's `IncomingMessage` and `ServerResponse`).
 *
 *     const { Authority } = require('tokenward')
 *     const { tokenward } = require('tokenward/express')
 *     const authority = Authority.open('keys.db')
 *     app.use(tokenward(authority, { skip: ['/healthz'] }))
 *     app.get('/whoami', (req, res) => res.json({ userId: req.tokenward.userId }))
 *
 * Every request (but those `skip` names) has its token found where Coder looks, by the core
 * reading `req.rawHeaders` (every header line, repeated ones in order: only the first counts)
 * and the raw query string of `req.url`: the `coder_session_token` cookie, that query
 * parameter, the `Coder-Session-Token` header, `Authorization: Bearer`, the `access_token`
 * query parameter. It is checked against the authority with `req.socket.remoteAddress`, which
 * also writes Coder's refresh. A request that passes reaches `next()` with its `ApiKey`
 * in `req.tokenward`; any other gets Coder's answer byte for byte: the status, the
 * `Content-Type`, the `WWW-Authenticate` challenge of a rejection and the JSON body, exactly as
 * the addon's error carries them (a request without a token gets what `authenticate('')`
 * throws, Coder's `TOKENWARD_MISSING` 401; a closed authority or a failing store Coder's 500).
 * An error that is not a tokenward error goes to `next(err)`.
 *
 * A `':memory:'` store (`authority.mayBlock` false) is called on the event loop, finding and
 * checking the token in one call (`authenticateRequestSync`), since the hop to a pool thread
 * and back costs far more than its work. A store that may block (a SQLite file) is called
 * through the Promise `authenticate`, which runs on libuv's thread pool, once `extractToken`
 * has found the token; a request without one is answered from `authenticateSync('')`, which
 * reads no store.
 *
 * The address is passed as the socket reports it: the core keeps a bare IP (an IPv4-mapped
 * IPv6 address as IPv4) and stores anything else as 0.0.0.0. Behind a proxy, the socket's
 * address is the proxy's: rewrite `req.socket`'s view first, or accept that Coder's
 * `ip_address` column holds the proxy.
 */

const { extractToken } = require('./index.js')

/** The request property the verified key is put on. */
const PROPERTY = 'tokenward'

/**
 * Whether `error` carries Coder's answer: a tokenward error (`status`, `headers`, `body`).
 * @param {unknown} error
 * @returns {boolean}
 */
function isTokenwardError(error) {
  return (
    error !== null &&
    typeof error === 'object' &&
    typeof error.body === 'string' &&
    Number.isInteger(error.status) &&
    Array.isArray(error.headers)
  )
}

/**
 * Writes the tokenward error `error` as Coder's answer on `res` and ends it: its `status`,
 * its `headers` (Content-Type, and WWW-Authenticate for a rejection), Content-Length and its
 * `body`, byte for byte. A `WWW-Authenticate` set earlier is removed when `error` has none (a
 * 500 has no challenge); other headers already set (CORS, ...) stay. Throws a `TypeError` for
 * an error that is not a tokenward error (it has no `body`).
 * @param {import('node:http').ServerResponse} res
 * @param {Error & {status: number, headers: Array<[string, string]>, body: string}} error
 */
function answer(res, error) {
  if (!isTokenwardError(error)) {
    throw new TypeError('answer: not a tokenward error (it has no status, headers and body)')
  }
  res.statusCode = error.status
  res.removeHeader('WWW-Authenticate')
  for (const [name, value] of error.headers) {
    res.setHeader(name, value)
  }
  res.setHeader('Content-Length', Buffer.byteLength(error.body, 'utf8'))
  res.end(error.body, 'utf8')
}

/** The path of `req` as the app's routes see it (Express: `req.path`), without the query. */
function pathOf(req) {
  if (typeof req.path === 'string') {
    return req.path
  }
  const url = typeof req.url === 'string' ? req.url : ''
  const query = url.indexOf('?')
  return query < 0 ? url : url.slice(0, query)
}

/** The raw query string of `req.url` (after the first `?`, as received), or ''. */
function queryOf(req) {
  const url = typeof req.url === 'string' ? req.url : ''
  const query = url.indexOf('?')
  return query < 0 ? '' : url.slice(query + 1)
}

/** Whether a path segment is `.` or `..`, also percent-encoded (`%2e`, `.%2E`, ...). */
function isDotSegment(segment) {
  const decoded = segment.length <= 6 ? segment.replace(/%2e/gi, '.') : segment
  return decoded === '.' || decoded === '..'
}

/**
 * `skip` as a predicate on the path, or `null` when nothing is skipped (the path is then not
 * even read: Express computes `req.path` on each read). A path with a `.` or `..` segment (also
 * percent-encoded) is never skipped: a router or proxy that resolves them could serve
 * `/healthz/../admin` as `/admin`.
 */
function skipPredicate(skip) {
  let wanted
  if (skip === undefined || skip === null) {
    return null
  } else if (typeof skip === 'function') {
    wanted = skip
  } else if (typeof skip === 'string' || typeof skip[Symbol.iterator] === 'function') {
    const prefixes = (typeof skip === 'string' ? [skip] : [...skip]).map((prefix) => {
      if (typeof prefix !== 'string') {
        throw new TypeError('tokenward: skip prefixes must be strings')
      }
      return prefix.replace(/\/+$/, '')
    })
    if (prefixes.length === 0) {
      return null
    }
    wanted = (path) => prefixes.some((p) => path === p || path.startsWith(p + '/'))
  } else {
    throw new TypeError('tokenward: skip must be a function, a path prefix or a list of them')
  }
  return (path) => !path.split('/').some(isDotSegment) && Boolean(wanted(path))
}

/** Rethrows `error` outside the Promise chain, as an error thrown by an event callback. */
function rethrow(error) {
  process.nextTick(() => {
    throw error
  })
}

/**
 * Express middleware authenticating every request against `authority`, as Coder's API-key
 * middleware does (see the module's documentation).
 *
 * `options.skip`: the paths let through without a token and without `req.tokenward`: a
 * predicate on the path (`req.path` in Express, the path of `req.url` otherwise), or a path
 * prefix or list of them. A prefix matches itself and every path below it: `'/healthz'` skips
 * `/healthz` and `/healthz/live` but not `/healthzz`; `'/'` skips everything. A path with a
 * `.` or `..` segment is never skipped.
 *
 * @param {import('./index').Authority} authority shared by every request; close it when the
 *   app stops (requests then get Coder's 500).
 * @param {{skip?: ((path: string) => boolean) | string | Iterable<string>}} [options]
 */
function tokenward(authority, options = {}) {
  if (
    authority === null ||
    typeof authority !== 'object' ||
    typeof authority.authenticate !== 'function' ||
    typeof authority.authenticateSync !== 'function'
  ) {
    throw new TypeError('tokenward: an Authority is required (Authority.open(url))')
  }
  const skipped = skipPredicate(options === null ? undefined : options.skip)
  // Finding and checking in one call, when the authority has it (an Authority does).
  const inOneCall = typeof authority.authenticateRequestSync === 'function'
  // Whether the store may block: read on first use (the getter throws once the authority is
  // closed, and the store behind it never changes).
  let mayBlock

  const fail = (res, next, error) => {
    if (isTokenwardError(error)) {
      answer(res, error)
    } else {
      next(error)
    }
  }

  return function tokenwardMiddleware(req, res, next) {
    if (skipped !== null && skipped(pathOf(req))) {
      next()
      return
    }
    // rawHeaders: every line as received; a hand-built request may have `headers` only.
    const raw = Array.isArray(req.rawHeaders)
    const remoteAddr = (req.socket && req.socket.remoteAddress) || ''
    let result
    try {
      if (mayBlock === undefined) {
        mayBlock = authority.mayBlock
      }
      if (!mayBlock && raw && inOneCall) {
        result = authority.authenticateRequestSync(req.rawHeaders, queryOf(req), remoteAddr)
      } else {
        const found = extractToken({ headers: raw ? req.rawHeaders : req.headers, query: queryOf(req) })
        if (found === null) {
          // No token: Coder's own answer is what the core throws for an empty one (Missing),
          // before it reads the store (or the closed authority's 500).
          result = authority.authenticateSync('', remoteAddr)
        } else if (mayBlock) {
          authority.authenticate(found.token, remoteAddr).then(
            ({ key }) => {
              req[PROPERTY] = key
              try {
                next()
              } catch (error) {
                rethrow(error)
              }
            },
            (error) => {
              try {
                fail(res, next, error)
              } catch (thrown) {
                rethrow(thrown)
              }
            },
          )
          return
        } else {
          result = authority.authenticateSync(found.token, remoteAddr)
        }
      }
    } catch (error) {
      fail(res, next, error)
      return
    }
    req[PROPERTY] = result.key
    next()
  }
}

module.exports = { tokenward, answer, isTokenwardError, default: tokenward }
