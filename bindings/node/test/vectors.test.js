'use strict'
// The conformance vectors, tests/vectors/*.json (schema and rules in tests/vectors/README.md),
// through the Node API, with the expectations of the other runners: tests/vectors.rs on the
// core, tests/ffi_vectors.rs through the C ABI, bindings/go/vectors_test.go and
// bindings/python/tests/test_vectors.py. Each file is a test, each of its cases a subtest named
// by the case's `name`. A case with no path through the Node API is skipped with the reason,
// and each file's test checks how many cases ran and how many were skipped, so a file that
// silently stops running fails.
//
// A rule the API reaches only through an operation runs through that operation, as the Go and
// Python runners do: the hash comparison through verifyRecord; the lifetime and scope rules
// through createToken and tokenConfig on ':memory:' authorities; the canonical address through
// the ipAddress a new session stores; Go's %q through the details of createToken (an unknown
// scope) and createSession (an unknown login type).

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const crypto = require('node:crypto')

const {
  VECTORS,
  assertDateMatchesMicros,
  assertNoSecret,
  caught,
  caughtSync,
  checkBody,
  checkOperational,
  codeOf,
  loadVectorFile,
  settingsOf,
  tsMicros,
  tw,
} = require('./support.js')

const SCHEMA = 'tokenward-vectors/1'

// Update the counts when a file gains cases (tests/vectors/README.md lists each file's count).
const FILES = {
  'parse.json': { kind: 'parse', ran: 48, skipped: 0 },
  'hash.json': { kind: 'hash', ran: 26, skipped: 2 },
  'check.json': { kind: 'check', ran: 86, skipped: 0 },
  'extract.json': { kind: 'extract', ran: 68, skipped: 0 },
  'extract_grammar.json': { kind: 'extract_grammar', ran: 138, skipped: 0 },
  'lifetime.json': { kind: 'lifetime', ran: 32, skipped: 0 },
  'duration.json': { kind: 'duration', ran: 127, skipped: 0 },
  'ip.json': { kind: 'ip', ran: 30, skipped: 0 },
  'scopes.json': { kind: 'scopes', ran: 31, skipped: 0 },
  'codes.json': { kind: 'codes', ran: 36, skipped: 0 },
  'quote.json': { kind: 'quote', ran: 100, skipped: 0 },
}

/** `file`'s document, after checking its envelope (fails on a schema it does not know). */
function document(file) {
  const doc = loadVectorFile(file)
  assert.equal(doc.schema, SCHEMA, `${file}: unknown schema ${doc.schema}`)
  assert.equal(doc.kind, FILES[file].kind, `${file}: kind ${doc.kind}`)
  assert.ok(Array.isArray(doc.cases) && doc.cases.length > 0, `${file} has no cases`)
  const names = doc.cases.map((c) => c.name)
  assert.ok(
    names.every((n) => typeof n === 'string' && n !== ''),
    `${file}: a case without a name`,
  )
  const twice = names.filter((n, i) => names.indexOf(n) !== i)
  assert.deepEqual(twice, [], `${file}: case names twice`)
  return doc
}

/**
 * Runs `caseFn(c, skip)` on every case of `file` as a subtest named by the case's name, then
 * checks the counts of cases run and skipped. `skip(reason)` marks the case skipped (the case
 * function returns right after it).
 */
function vectors(file, caseFn) {
  test(file, async (t) => {
    const doc = document(file)
    let started = 0
    let skipped = 0
    for (const c of doc.cases) {
      await t.test(c.name, async (st) => {
        started++
        const skip = (reason) => {
          skipped++
          st.skip(reason)
        }
        await caseFn(c, skip, doc)
      })
    }
    if (started !== doc.cases.length) return // a name pattern picked some: counts are per file
    const ran = started - skipped
    const want = FILES[file]
    assert.ok(ran > 0, `${file}: no case ran`)
    assert.deepEqual(
      { ran, skipped },
      { ran: want.ran, skipped: want.skipped },
      `${file}: ${ran} cases run and ${skipped} skipped`,
    )
  })
}

test('every vector file is run here, and no other', () => {
  const files = fs.readdirSync(VECTORS).filter((f) => f.endsWith('.json')).sort()
  assert.deepEqual(files, Object.keys(FILES).sort())
  for (const file of ['extract_grammar.json', 'quote.json']) {
    assert.match(String(loadVectorFile(file).go_version), /^go/, file)
  }
  const ranges = loadVectorFile('quote.json').unprintable
  assert.ok(ranges.length > 0, 'quote.json has no unprintable ranges')
  ranges.forEach((r, i) => {
    assert.ok(r[0] <= r[1], `unprintable range ${r}`)
    assert.ok(i === 0 || ranges[i - 1][1] < r[0], `unprintable ranges out of order at ${r}`)
  })
})

// ---------------------------------------------------------------------------------------------
// parse.json

vectors('parse.json', (c) => {
  const want = c.expect
  if ('error' in want) {
    const e = caughtSync(() => tw.parse(c.input))
    assert.equal(e.code, 'TOKENWARD_INVALID_TOKEN')
    assert.equal(e.detail, want.error)
    checkBody(e)
    if (c.input.length > 10) {
      for (const text of [e.message, e.detail, e.body]) {
        assert.ok(!text.includes(c.input), `the error echoes the token: ${text}`)
      }
    }
  } else {
    assert.deepEqual({ ...tw.parse(c.input) }, { id: want.id, secret: want.secret })
    assert.deepEqual({ ...tw.parse(c.input, { strict: false }) }, { id: want.id, secret: want.secret })
  }
  // The strict parse accepts exactly the strict cases (a plain failure fails both).
  if (c.strict) {
    assert.deepEqual({ ...tw.parse(c.input, { strict: true }) }, { id: want.id, secret: want.secret })
  } else {
    const e = caughtSync(() => tw.parse(c.input, { strict: true }))
    assert.equal(e.code, 'TOKENWARD_INVALID_TOKEN')
  }
})

// ---------------------------------------------------------------------------------------------
// hash.json

const HASH_NOW = tsMicros('2026-03-01T12:00:00Z')

/**
 * A stored key holding `stored` (hex) as its hash: id "hashvector", valid at HASH_NOW with
 * nothing to refresh (used a minute ago, a token, which never slides).
 */
function hashRecord(stored) {
  return tw.ApiKey.fromJSON({
    id: 'hashvector',
    hashed_secret: stored,
    user_id: 'u',
    last_used: '2026-03-01T11:59:00Z',
    expires_at: '2026-03-08T12:00:00Z',
    created_at: '2026-03-01T12:00:00Z',
    updated_at: '2026-03-01T12:00:00Z',
    login_type: 'token',
    lifetime_seconds: 604800,
    ip_address: '0.0.0.0',
    token_name: '',
    scopes: ['coder:all'],
    allow_list: [{ type: '*', id: '*' }],
  })
}

vectors('hash.json', (c, skip) => {
  if ('sha256' in c) {
    const want = Buffer.from(c.sha256, 'hex')
    assert.equal(want.length, 32)
    // The vector's digest is node:crypto's, and the library's.
    assert.deepEqual(crypto.createHash('sha256').update(c.secret, 'utf8').digest(), want)
    const got = tw.hashSecret(c.secret)
    assert.ok(Buffer.isBuffer(got), 'hashSecret returns a Buffer')
    assert.deepEqual(got, want)
    assert.deepEqual(tw.hashSecret(Buffer.from(c.secret, 'utf8')), want)
    return
  }
  // A comparison case. No function compares hashes on its own: verifyRecord does, on a
  // presented token against a record holding the stored bytes (after the parse, before the
  // expiry, which the record passes).
  if (Buffer.byteLength(c.secret, 'utf8') !== 22 || c.secret.includes('-')) {
    skip(
      "the comparison is reached through verifyRecord only, on a token's 22-byte secret; " +
        'this secret cannot be presented',
    )
    return
  }
  const key = hashRecord(c.stored)
  assert.deepEqual(key.hashedSecret, Buffer.from(c.stored, 'hex'))
  const presented = `hashvector-${c.secret}`
  if (c.matches) {
    const verified = tw.verifyRecord(presented, key, { now: HASH_NOW })
    assert.equal(verified.key, key)
    assert.ok(verified.update == null, 'a key used a minute ago has nothing to write')
  } else {
    const e = caughtSync(() => tw.verifyRecord(presented, key, { now: HASH_NOW }))
    assert.equal(e.code, 'TOKENWARD_INVALID_SECRET')
    assert.equal(e.status, 401)
    assertNoSecret(e, c.secret)
  }
})

// ---------------------------------------------------------------------------------------------
// check.json

/** The case's `now` as the arguments verifyRecord takes: bigint µs, and a Date when exact. */
function nowForms(text) {
  const micros = tsMicros(text)
  const forms = [['bigint', micros]]
  if (micros % 1000n === 0n) forms.push(['Date', new Date(Number(micros / 1000n))])
  return forms
}

vectors('check.json', (c) => {
  const key = c.record === null ? null : tw.ApiKey.fromJSON(c.record)
  const settings = settingsOf(c.settings)
  const want = c.expect
  for (const [form, now] of nowForms(c.now)) {
    const run = () =>
      tw.verifyRecord(c.presented, key, { now, settings, remoteAddr: c.remote_addr })
    if ('rejection' in want) {
      const w = want.rejection
      const e = caughtSync(run)
      const at = `(now as ${form})`
      assert.equal(e.code, codeOf(w.code), at)
      assert.equal(e.number, numberOf(w.code), at)
      assert.equal(e.status, w.status, at)
      assert.equal(e.message, w.message, at)
      assert.equal(e.detail, w.detail, at)
      assert.equal(e.wwwAuthenticate, w.www_authenticate, at)
      assert.deepEqual(checkBody(e), { message: w.message, detail: w.detail }, at)
      assert.ok(
        e.headers.some(([n, v]) => n === 'WWW-Authenticate' && v === w.www_authenticate),
        `${at} headers ${JSON.stringify(e.headers)} lack the challenge`,
      )
      // No rejection carries the presented token's secret.
      const dash = c.presented.indexOf('-')
      const secret = dash < 0 ? '' : c.presented.slice(dash + 1)
      if (secret.length >= 8) assertNoSecret(e, secret)
      continue
    }
    assert.ok('verified' in want, 'the case expects neither verified nor rejection')
    assert.ok(key !== null)
    const verified = run()
    assert.equal(verified.key, key, 'the key verified is the record given')
    const w = want.verified.update
    const update = verified.update
    if (w === null) {
      assert.ok(update == null, `(now as ${form}) got an update ${JSON.stringify(update, big)}, want none`)
      continue
    }
    assert.ok(update != null, `(now as ${form}) got no update`)
    assert.equal(update.id, c.record.id)
    assert.equal(update.lastUsedMicros, tsMicros(w.last_used), 'last_used')
    assert.equal(update.expiresAtMicros, tsMicros(w.expires_at), 'expires_at')
    assert.equal(update.ipAddress, w.ip_address, 'ip_address')
    // The decision was made on the record's expires_at.
    assert.equal(update.previousExpiresAtMicros, tsMicros(c.record.expires_at), 'previous')
    assertDateMatchesMicros('lastUsed', update.lastUsed, update.lastUsedMicros)
    assertDateMatchesMicros('expiresAt', update.expiresAt, update.expiresAtMicros)
    assertDateMatchesMicros(
      'previousExpiresAt',
      update.previousExpiresAt,
      update.previousExpiresAtMicros,
    )
  }
})

/** The number codes.json gives the code named `name`. */
function numberOf(name) {
  const found = loadVectorFile('codes.json').cases.find((c) => c.name === name)
  assert.ok(found, `codes.json has no code ${name}`)
  return found.number
}

function big(_, v) {
  return typeof v === 'bigint' ? `${v}n` : v
}

// ---------------------------------------------------------------------------------------------
// extract.json and extract_grammar.json

/**
 * The case's header lines as Node delivers them: `rawHeaders` (a flat [name, value, ...]
 * array, in order) and `headers` (an object by lower-cased name, a repeated name's values an
 * array in order). Only ASCII is lower-cased: names are matched ASCII case-insensitively.
 */
function headerForms(lines) {
  const raw = lines.flat()
  const grouped = Object.create(null)
  for (const [name, value] of lines) {
    const lower = name.replace(/[A-Z]/g, (ch) => ch.toLowerCase())
    if (!(lower in grouped)) grouped[lower] = []
    grouped[lower].push(value)
  }
  const object = Object.create(null)
  for (const [name, values] of Object.entries(grouped)) {
    object[name] = values.length === 1 ? values[0] : values
  }
  return [
    ['rawHeaders', raw],
    ['headers', object],
  ]
}

/** What `authority.method(...args)` throws, as `{code, message, detail}`, or `null`. */
function thrown(authority, method, ...args) {
  try {
    authority[method](...args)
    return null
  } catch (error) {
    return { code: error.code, message: error.message, detail: error.detail }
  }
}

const extractAuthority = tw.Authority.open(':memory:')

function checkExtract(c, withSource) {
  // Found and checked in one call, the token is the one the case expects: it gets the answer
  // that token gets (TOKENWARD_MISSING when there is none; no key matches any other).
  const raw = c.headers.flat()
  assert.deepEqual(
    thrown(extractAuthority, 'authenticateRequestSync', raw, c.query, ''),
    thrown(extractAuthority, 'authenticateSync', c.expect ?? '', ''),
    'authenticateRequestSync',
  )
  for (const [form, headers] of headerForms(c.headers)) {
    const got = tw.extractToken({ headers, query: c.query })
    if (c.expect === null) {
      assert.equal(got, null, `${form}: got ${JSON.stringify(got)}, want no token`)
      continue
    }
    assert.ok(got !== null, `${form}: got no token, want ${JSON.stringify(c.expect)}`)
    assert.equal(got.token, c.expect, form)
    if (withSource) assert.equal(got.source, c.source, `${form}: source`)
  }
}

vectors('extract.json', (c) => checkExtract(c, false))

vectors('extract_grammar.json', (c) => {
  assert.equal(c.expect === null, c.source === null)
  checkExtract(c, true)
})

// ---------------------------------------------------------------------------------------------
// lifetime.json

const vectorUser = (roles) => ({ id: 'vector-user', roles })

vectors('lifetime.json', async (c) => {
  const authority = tw.Authority.open(':memory:', settingsOf(c.settings))
  try {
    const target = vectorUser(c.target_roles)
    const maxNs = BigInt(c.max_token_lifetime_ns)
    // tokenConfig is in ms (a fraction below a millisecond).
    assert.equal(authority.tokenConfig(target), Number(maxNs) / 1e6, 'max_token_lifetime')
    const ns = BigInt(c.lifetime_ns)
    // The lifetime as Go's "<n>ns" (exact); 0 means "not given". Whole milliseconds within
    // Number's exact range also go as a number of ms, under another name.
    const forms = [['string', ns === 0n ? undefined : `${ns}ns`, c.name]]
    if (ns !== 0n && ns % 1000000n === 0n && Number.isSafeInteger(Number(ns))) {
      forms.push(['ms', Number(ns / 1000000n), `${c.name}_ms`])
    }
    const want = c.expect
    for (const [form, lifetime, tokenName] of forms) {
      const options = { tokenName, remoteAddr: '203.0.113.7' }
      if (lifetime !== undefined) options.lifetime = lifetime
      if ('error' in want) {
        // The vectors name no code: either lifetime code.
        const e = await caught(() => authority.createToken(target, options))
        assert.ok(
          ['TOKENWARD_INVALID_LIFETIME', 'TOKENWARD_LIFETIME_TOO_LONG'].includes(e.code),
          `${form}: ${e.code}`,
        )
        checkOperational(e, want.error)
        continue
      }
      const { key } = await authority.createToken(target, options)
      // The authority reads the system clock, which cannot be set: compare the span from the
      // key's created_at (its "now") with the span the case expects from now, to the µs.
      assert.equal(
        key.expiresAtMicros - key.createdAtMicros,
        tsMicros(want.expires_at) - tsMicros(c.now),
        `${form}: expires_at - created_at`,
      )
      assertDateMatchesMicros('expiresAt', key.expiresAt, key.expiresAtMicros)
      // The key is the stored one: a lifetime of 0 whole seconds is stored as 86400
      // (tests/vectors/README.md: "That substitution belongs to the store").
      const seconds = want.lifetime_seconds || 86400
      assert.equal(key.lifetimeSeconds, seconds, `${form}: lifetime_seconds`)
      const pub = key.toJSON()
      assert.equal(pub.lifetime_seconds, seconds)
      assert.equal(tsMicros(pub.expires_at), key.expiresAtMicros)
    }
  } finally {
    authority.close()
  }
})

// ---------------------------------------------------------------------------------------------
// duration.json

vectors('duration.json', (c) => {
  if ('nanos' in c) {
    const ns = BigInt(c.nanos)
    assert.equal(tw.formatDuration(ns), c.formatted)
    // Milliseconds too, where a number holds the nanoseconds exactly.
    if (ns % 1000000n === 0n && Number.isSafeInteger(Number(ns))) {
      assert.equal(tw.formatDuration(Number(ns / 1000000n)), c.formatted, 'as ms')
    }
    return
  }
  const want = c.expect
  if ('error' in want) {
    for (const parse of [tw.parseDurationNs, tw.parseDuration]) {
      const e = caughtSync(() => parse(c.input))
      assert.equal(e.code, 'TOKENWARD_INVALID_DURATION', parse.name)
      assert.equal(e.detail, want.error, parse.name)
      assert.equal(e.status, 400)
    }
    return
  }
  assert.ok('nanos' in want, 'the case expects neither nanos nor an error')
  const got = tw.parseDurationNs(c.input)
  assert.equal(typeof got, 'bigint')
  assert.equal(got, BigInt(want.nanos))
  // parseDuration: milliseconds, a fraction below one.
  assert.equal(tw.parseDuration(c.input), Number(BigInt(want.nanos)) / 1e6)
})

// ---------------------------------------------------------------------------------------------
// ip.json

test('ip.json', async (t) => {
  // One authority for the file; the address a new session records for the request's address.
  const authority = tw.Authority.open(':memory:')
  t.after(() => authority.close())
  await runFile(t, 'ip.json', async (c) => {
    const { key } = await authority.createSession(vectorUser([]), 'password', c.input)
    assert.equal(key.ipAddress, c.expect)
    assert.equal(authority.createSessionSync(vectorUser([]), 'github', c.input).key.ipAddress, c.expect)
  })
})

// ---------------------------------------------------------------------------------------------
// scopes.json

test('scopes.json', async (t) => {
  const authority = tw.Authority.open(':memory:')
  t.after(() => authority.close())
  const me = vectorUser([])
  await runFile(t, 'scopes.json', (c) => {
    const want = c.expect
    // scope: null and '' both mean "not given". `scope` is an optional string (index.d.ts):
    // null goes as an absent option (as the Go runner does), '' as itself.
    const options = { tokenName: c.name, scopes: c.scopes }
    if (c.scope !== null) options.scope = c.scope
    if ('error' in want) {
      const e = caughtSync(() => authority.createTokenSync(me, options))
      assert.equal(e.code, 'TOKENWARD_INVALID_SCOPE')
      checkOperational(e, want.error)
      return
    }
    const { key } = authority.createTokenSync(me, options)
    assert.deepEqual(key.scopes, want.scopes)
    assert.equal(key.scope, want.scope)
    const pub = key.toJSON()
    assert.deepEqual([pub.scopes, pub.scope], [want.scopes, want.scope])
  })
})

/** `vectors` inside a test that holds shared state (an authority). */
async function runFile(t, file, caseFn) {
  const doc = document(file)
  let started = 0
  for (const c of doc.cases) {
    await t.test(c.name, async () => {
      started++
      await caseFn(c)
    })
  }
  if (started !== doc.cases.length) return
  assert.deepEqual(
    { ran: started, skipped: 0 },
    { ran: FILES[file].ran, skipped: FILES[file].skipped },
    `${file}: counts`,
  )
}

// ---------------------------------------------------------------------------------------------
// codes.json

vectors('codes.json', (c) => {
  const rows = tw.codes().filter((r) => r.number === c.number)
  if (c.number === 0) {
    // Success is no error: codes() lists the codes an Error may carry.
    assert.deepEqual(rows, [])
    assert.equal(c.status, 200)
    assert.ok(!c.rejection)
    assert.ok(!tw.codes().some((r) => r.code === codeOf(c.name)))
    return
  }
  assert.equal(rows.length, 1, `codes() has ${rows.length} rows numbered ${c.number}`)
  const [row] = rows
  assert.deepEqual(
    { ...row },
    {
      code: codeOf(c.name),
      name: c.name,
      number: c.number,
      status: c.status,
      rejection: c.rejection,
    },
  )
})

test('codes() lists exactly the codes of codes.json but success, in numeric order', () => {
  const listed = loadVectorFile('codes.json').cases.filter((c) => c.number !== 0)
  const rows = tw.codes()
  assert.deepEqual(
    rows.map((r) => r.number),
    listed.map((c) => c.number).sort((a, b) => a - b),
  )
  assert.equal(new Set(rows.map((r) => r.code)).size, rows.length)
  // Rejections are exactly 1000..1999 (the README's ranges).
  for (const r of rows) assert.equal(r.rejection, r.number >= 1000 && r.number < 2000, r.code)
})

// ---------------------------------------------------------------------------------------------
// quote.json

/** `text` as createToken quotes a scope it does not accept. */
function quotedByScope(authority, text) {
  const e = caughtSync(() => authority.createTokenSync(vectorUser([]), { scopes: [text] }))
  assert.equal(e.code, 'TOKENWARD_INVALID_SCOPE')
  const prefix = 'invalid or unsupported API key scope: '
  assert.ok(e.detail.startsWith(prefix), `unexpected detail ${e.detail}`)
  return e.detail.slice(prefix.length)
}

/** `text` as createSession quotes a login type it does not know. */
function quotedByLoginType(authority, text) {
  const e = caughtSync(() => authority.createSessionSync(vectorUser([]), text))
  assert.equal(e.code, 'TOKENWARD_INVALID_LOGIN_TYPE')
  const prefix = 'unknown login type '
  assert.ok(e.detail.startsWith(prefix), `unexpected detail ${e.detail}`)
  return e.detail.slice(prefix.length)
}

test('quote.json', async (t) => {
  const authority = tw.Authority.open(':memory:')
  t.after(() => authority.close())
  await runFile(t, 'quote.json', async (c) => {
    assert.equal(quotedByScope(authority, c.input), c.quoted, 'by scope')
    assert.equal(quotedByLoginType(authority, c.input), c.quoted, 'by login type')
    // The async twin quotes alike.
    const e = await caught(() => authority.createSession(vectorUser([]), c.input))
    assert.equal(e.detail, `unknown login type ${c.quoted}`)
  })
})

// Every code point a string can hold comes back raw from the library's %q exactly when Go's
// unicode.IsPrint (as quote.json records it) accepts it. By default the walk takes both sides
// of every edge of the unprintable ranges and every 61st code point besides, as the Go and
// Python runners do; TOKENWARD_QUOTE_WALK=all walks all 1,112,064.
test('quoting escapes exactly the code points Go finds unprintable', () => {
  const doc = document('quote.json')
  const ranges = doc.unprintable
  const all = process.env.TOKENWARD_QUOTE_WALK === 'all'
  const edges = new Set()
  for (const [s, e] of ranges) for (const u of [s - 1, s, s + 1, e - 1, e, e + 1]) edges.add(u)
  const authority = tw.Authority.open(':memory:')
  try {
    const wrong = []
    let walked = 0
    let next = 0
    for (let u = 0; u <= 0x10ffff; u++) {
      if ((u >= 0xd800 && u <= 0xdfff) || (!all && !edges.has(u) && u % 61 !== 0)) continue
      while (next < ranges.length && ranges[next][1] < u) next++
      const goPrintable = next === ranges.length || u < ranges[next][0]
      const ch = String.fromCodePoint(u)
      const quoted = quotedByLoginType(authority, ch)
      const raw = quoted === `"${ch}"`
      // Go escapes '"' and '\\' although it can print them.
      if (raw !== (goPrintable && ch !== '"' && ch !== '\\')) {
        wrong.push(`U+${u.toString(16).toUpperCase().padStart(4, '0')} (raw: ${raw}, Go printable: ${goPrintable})`)
      }
      walked++
    }
    if (all) assert.equal(walked, 0x110000 - 0x800)
    else assert.ok(walked >= Math.floor(0x110000 / 61), `walked ${walked}`)
    assert.deepEqual(wrong.slice(0, 20), [], `${wrong.length} code points quoted unlike Go ${doc.go_version}`)
  } finally {
    authority.close()
  }
})
