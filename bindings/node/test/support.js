'use strict'
// Helpers shared by the Node binding's test files (vectors, authority, concurrency,
// bad_input). Nothing here runs a test: `node --test test/` also loads this file as a test
// file of its own (Node 20 runs every .js under the directory), where it does nothing.
//
// Expected values come from Coder's rules (docs/compatibility.md), the vectors and Node's own
// tools (node:crypto, Date), never from tokenward.

const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const ROOT = path.resolve(__dirname, '..', '..', '..')
const PACKAGE = path.resolve(__dirname, '..')
const VECTORS = path.join(ROOT, 'tests', 'vectors')

/** The binding, loaded as a package consumer loads it (CommonJS). */
const tw = require(PACKAGE)

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const TOKEN_RE = /^[0-9A-Za-z]{10}-[0-9A-Za-z]{22}$/

const SIGNED_OUT =
  'You are signed out or your session has expired. Please sign in again to continue.'
const INTERNAL =
  'An internal error occurred. Please try again or contact the system administrator.'
const NOT_FOUND = 'Resource not found or you do not have access to this resource'
const MISSING_DETAIL = 'Cookie "coder_session_token" or query parameter must be provided.'
const CHALLENGE_EXPIRED =
  'Bearer realm="coder", error="invalid_token", error_description="The access token has expired"'
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8'

/** A site Owner (compatibility §4.2 step 7). */
const OWNER = Object.freeze({ id: 'root', roles: Object.freeze(['owner']) })

const HOUR_MS = 3600 * 1000
const DAY_MS = 24 * HOUR_MS

// ---------------------------------------------------------------------------------------------
// JSON with exact big integers.

/**
 * JSON.parse, except that an integer literal outside Number's safe range becomes a BigInt
 * (tests/vectors/README.md, "Big integers": Node 20's reviver has no `context.source`, so
 * this is a small parser of its own). Strings are decoded by JSON.parse itself.
 */
function parseJSONBig(text) {
  let i = 0
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++
  }
  const fail = (what) => {
    throw new SyntaxError(`JSON: ${what} at offset ${i}`)
  }
  const value = () => {
    ws()
    const c = text[i]
    if (c === '{') {
      i++
      const out = {}
      ws()
      if (text[i] === '}') {
        i++
        return out
      }
      for (;;) {
        ws()
        if (text[i] !== '"') fail('expected a key')
        const key = string()
        ws()
        if (text[i] !== ':') fail('expected ":"')
        i++
        out[key] = value()
        ws()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === '}') {
          i++
          return out
        }
        fail('expected "," or "}"')
      }
    }
    if (c === '[') {
      i++
      const out = []
      ws()
      if (text[i] === ']') {
        i++
        return out
      }
      for (;;) {
        out.push(value())
        ws()
        if (text[i] === ',') {
          i++
          continue
        }
        if (text[i] === ']') {
          i++
          return out
        }
        fail('expected "," or "]"')
      }
    }
    if (c === '"') return string()
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ]) {
      if (text.startsWith(word, i)) {
        i += word.length
        return v
      }
    }
    const m = /^-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400))
    if (!m) fail('unexpected character')
    i += m[0].length
    const n = Number(m[0])
    if (!m[1] && !m[2] && !Number.isSafeInteger(n)) return BigInt(m[0])
    return n
  }
  const string = () => {
    const start = i
    i++
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1
    if (i >= text.length) fail('unterminated string')
    i++
    return JSON.parse(text.slice(start, i))
  }
  const out = value()
  ws()
  if (i !== text.length) fail('trailing text')
  return out
}

const documents = new Map()

/** tests/vectors/<file>, parsed with exact big integers (cached). */
function loadVectorFile(file) {
  if (!documents.has(file)) {
    documents.set(file, parseJSONBig(fs.readFileSync(path.join(VECTORS, file), 'utf8')))
  }
  return documents.get(file)
}

// ---------------------------------------------------------------------------------------------
// Time.

const TIMESTAMP_RE = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?Z$/

/**
 * A vector timestamp (RFC 3339, UTC, `Z`, at most 6 fraction digits) as exact microseconds
 * since the Unix epoch, a BigInt; read here with Date.UTC, not by the library. Years before
 * 100 (Go's zero time, year 1) are set with setUTCFullYear, which Date.UTC would remap.
 */
function tsMicros(text) {
  const m = TIMESTAMP_RE.exec(text)
  assert.ok(m, `not a vector timestamp: ${text}`)
  const [, y, mo, d, h, mi, s, frac] = m
  const date = new Date(0)
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d))
  date.setUTCHours(Number(h), Number(mi), Number(s), 0)
  const ms = date.getTime()
  assert.ok(Number.isFinite(ms), `timestamp out of Date's range: ${text}`)
  return BigInt(ms) * 1000n + BigInt((frac || '0').padEnd(6, '0'))
}

/** Floor division of BigInts (toward negative infinity). */
function floorDiv(a, b) {
  const q = a / b
  return a % b !== 0n && (a < 0n) !== (b < 0n) ? q - 1n : q
}

/**
 * A `Date` getter and its exact `...Micros` twin describe the same instant: the Date is that
 * instant's millisecond (the microseconds below a millisecond are the twin's only).
 */
function assertDateMatchesMicros(what, date, micros) {
  assert.ok(date instanceof Date, `${what}: ${date} is not a Date`)
  assert.equal(typeof micros, 'bigint', `${what}: micros ${micros} is not a bigint`)
  assert.equal(
    BigInt(date.getTime()),
    floorDiv(micros, 1000n),
    `${what}: Date ${date.toISOString()} is not the millisecond of ${micros} µs`,
  )
}

/** Go's `Time.String()` of a UTC instant given in microseconds (trailing zeros dropped). */
function goTime(micros) {
  const ms = floorDiv(micros, 1000n)
  const sub = micros - floorDiv(micros, 1000000n) * 1000000n
  const iso = new Date(Number(ms)).toISOString() // 2026-01-02T15:04:05.123Z
  let text = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`
  if (sub !== 0n) text += `.${sub.toString().padStart(6, '0')}`.replace(/0+$/, '')
  return `${text} +0000 UTC`
}

/** compatibility §6 row 5 and "Fine points decided". */
function expiredDetail(expiresAtMicros) {
  return `API key expired at "${goTime(expiresAtMicros)}".`
}

/** Resolves after `ms`; used only to let the clock move, never to time anything. */
function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

// ---------------------------------------------------------------------------------------------
// Secrets and errors.

/** SHA-256 of a secret's UTF-8 bytes, by node:crypto (compatibility §2). */
function sha256(secret) {
  return crypto.createHash('sha256').update(secret, 'utf8').digest()
}

/** [id, secret] of a well-formed token, split by hand (compatibility §1). */
function split(token) {
  assert.match(token, TOKEN_RE)
  return [token.slice(0, 10), token.slice(11)]
}

/** The `code` of a core code name: 'expired' -> 'TOKENWARD_EXPIRED'. */
function codeOf(name) {
  return `TOKENWARD_${name.toUpperCase()}`
}

/**
 * Runs `fn` (sync, or returning a Promise) and returns what it threw, failing when it did
 * not throw, or threw something other than an Error with a string `code`.
 */
async function caught(fn) {
  let error
  try {
    await fn()
  } catch (e) {
    error = e
  }
  assert.ok(error !== undefined, 'expected an error, got none')
  assert.ok(error instanceof Error, `threw a non-Error: ${String(error)}`)
  assert.equal(typeof error.code, 'string', `an Error without a code: ${error.stack}`)
  return error
}

/** `caught` for synchronous calls. */
function caughtSync(fn) {
  let error
  try {
    fn()
  } catch (e) {
    error = e
  }
  assert.ok(error !== undefined, 'expected an error, got none')
  assert.ok(error instanceof Error, `threw a non-Error: ${String(error)}`)
  assert.equal(typeof error.code, 'string', `an Error without a code: ${error.stack}`)
  return error
}

/** The error's JSON body is Coder's: its message and detail (when it has one), a newline. */
function checkBody(error) {
  assert.equal(typeof error.body, 'string')
  assert.ok(error.body.endsWith('\n'), `body ${JSON.stringify(error.body)} lacks the newline`)
  const body = JSON.parse(error.body)
  assert.equal(body.message, error.message)
  if (error.detail !== '') assert.equal(body.detail, error.detail)
  assert.ok(Array.isArray(error.headers), 'headers is not an array')
  assert.ok(
    error.headers.some(([n, v]) => n === 'Content-Type' && v === JSON_CONTENT_TYPE),
    `headers ${JSON.stringify(error.headers)} lack Content-Type`,
  )
  return body
}

/** A rejection of a presented token (compatibility §6): Coder's 401 and its challenge. */
function checkRejection(error, name, detail, challenge = CHALLENGE_EXPIRED) {
  assert.equal(error.code, codeOf(name))
  assert.equal(error.status, 401)
  assert.equal(error.message, SIGNED_OUT)
  if (detail !== undefined) assert.equal(error.detail, detail)
  assert.equal(error.wwwAuthenticate, challenge)
  assert.deepEqual(checkBody(error), { message: SIGNED_OUT, detail: error.detail })
  assert.ok(
    error.headers.some(([n, v]) => n === 'WWW-Authenticate' && v === challenge),
    `headers ${JSON.stringify(error.headers)} lack the challenge`,
  )
}

/** An operational error (not a rejection): status, message, detail, body; no challenge. */
function checkOperational(error, want) {
  assert.equal(error.status, want.status)
  assert.equal(error.message, want.message)
  assert.equal(error.detail, want.detail)
  checkBody(error)
  assert.equal(error.wwwAuthenticate, null)
  assert.ok(
    !error.headers.some(([n]) => n.toLowerCase() === 'www-authenticate'),
    `an operational error with a challenge: ${JSON.stringify(error.headers)}`,
  )
}

/** Every text an error shows: its message, stack, string form and every own property. */
function errorTexts(error) {
  const texts = [String(error), error.message, error.stack]
  for (const name of Object.getOwnPropertyNames(error)) {
    const value = error[name]
    texts.push(typeof value === 'string' ? value : JSON.stringify(value, (k, v) =>
      typeof v === 'bigint' ? v.toString() : v))
  }
  return texts.filter((t) => t !== undefined)
}

/** No text of `error` holds `secret`. */
function assertNoSecret(error, secret) {
  for (const text of errorTexts(error)) {
    assert.ok(!String(text).includes(secret), `the error shows a secret: ${text}`)
  }
}

// ---------------------------------------------------------------------------------------------
// Stores.

const tmpDirs = []

/** A new SQLite file path in a directory of its own (removed at exit). */
function sqlitePath(name = 'keys.db') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenward-node-'))
  tmpDirs.push(dir)
  return path.join(dir, name)
}

process.on('exit', () => {
  for (const dir of tmpDirs) {
    try {
      fs.rmSync(dir, { recursive: true, force: true })
    } catch {
      // best effort
    }
  }
})

/** The two stores every lifecycle test runs on. */
const STORES = [
  ['memory', () => ':memory:'],
  ['sqlite', () => sqlitePath()],
]

/** camelCase of a snake_case settings name: 'session_duration' -> 'sessionDuration'. */
function camel(name) {
  return name.replace(/_([a-z])/g, (_, c) => c.toUpperCase())
}

/** A vector's partial settings object (snake_case names) as Settings. */
function settingsOf(partial) {
  const values = {}
  for (const [name, value] of Object.entries(partial || {})) values[camel(name)] = value
  return new tw.Settings(values)
}

module.exports = {
  ALPHABET,
  CHALLENGE_EXPIRED,
  DAY_MS,
  HOUR_MS,
  INTERNAL,
  JSON_CONTENT_TYPE,
  MISSING_DETAIL,
  NOT_FOUND,
  OWNER,
  PACKAGE,
  ROOT,
  SIGNED_OUT,
  STORES,
  TOKEN_RE,
  VECTORS,
  assertDateMatchesMicros,
  assertNoSecret,
  camel,
  caught,
  caughtSync,
  checkBody,
  checkOperational,
  checkRejection,
  codeOf,
  errorTexts,
  expiredDetail,
  floorDiv,
  goTime,
  loadVectorFile,
  parseJSONBig,
  settingsOf,
  sha256,
  sleep,
  split,
  sqlitePath,
  tsMicros,
  tw,
}
