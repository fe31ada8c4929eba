'use strict'
// Bad input to every entry point: wrong types, undefined and null, 1 MiB strings, lone
// surrogates, invalid Dates, bad durations, settings and allow lists, huge and negative
// lifetimes. Each must be a thrown Error with a `code` (TOKENWARD_* for what the core refuses,
// one of napi's statuses for a value N-API cannot convert), never a crash, and no error may
// show the secret of a token presented or minted.
//
// Calls that might crash the process run in a child process, so that a crash fails one test
// instead of the file.

const { describe, test } = require('node:test')
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')

const {
  HOUR_MS,
  PACKAGE,
  STORES,
  assertNoSecret,
  caught,
  caughtSync,
  sha256,
  split,
  tw,
} = require('./support.js')

const MiB = 1 << 20
const SURROGATE = '\ud800'
const REPLACEMENT = '\ufffd'

/** napi's own statuses: the `code` of a value N-API could not convert. */
const NAPI_CODES = new Set([
  'InvalidArg',
  'ObjectExpected',
  'StringExpected',
  'NameExpected',
  'FunctionExpected',
  'NumberExpected',
  'BooleanExpected',
  'ArrayExpected',
  'GenericFailure',
  'BigintExpected',
  'DateExpected',
  'ArrayBufferExpected',
])

/** A thrown Error with a napi status as its code (no TOKENWARD_ answer fields). */
function assertNapi(e, label) {
  assert.ok(NAPI_CODES.has(e.code), `${label}: code ${e.code} is not one of napi's (${e.message})`)
}

/** `fn` throws an Error whose code is `want` (a TOKENWARD_ code, or 'napi' for napi's). */
function throwsCode(label, fn, want) {
  const e = caughtSync(fn)
  if (want === 'napi') assertNapi(e, label)
  else {
    assert.equal(e.code, want, `${label}: ${e.message} (${e.detail})`)
    assert.equal(typeof e.status, 'number', `${label}: a TOKENWARD_ error without a status`)
    assert.equal(typeof e.body, 'string', `${label}: a TOKENWARD_ error without a body`)
  }
  return e
}

const RECORD = {
  id: 'AbCdEfGhIj',
  hashed_secret: sha256('s3cretS3cretS3cretS3cr').toString('hex'),
  user_id: 'u',
  last_used: '2026-01-01T00:00:00Z',
  expires_at: '2000-01-01T00:00:00Z', // long expired
  created_at: '1999-12-01T00:00:00Z',
  updated_at: '1999-12-01T00:00:00Z',
  login_type: 'token',
  lifetime_seconds: 86400,
  ip_address: '0.0.0.0',
  token_name: 'ci',
  scopes: ['coder:all'],
  allow_list: [{ type: '*', id: '*' }],
}
const PRESENTED = 'AbCdEfGhIj-s3cretS3cretS3cretS3cr'

/**
 * Runs `body` (JavaScript, with `tw` the package, `rec` RECORD and `token` PRESENTED) in a
 * child process and returns how it ended: its exit status and signal, and what it printed,
 * which is `{threw, code}` of the statement's outcome.
 */
function inChild(body) {
  const script = `
    const tw = require(${JSON.stringify(PACKAGE)})
    const rec = ${JSON.stringify(RECORD)}
    const token = ${JSON.stringify(PRESENTED)}
    let out
    try { ${body}; out = { threw: false } }
    catch (e) { out = { threw: true, isError: e instanceof Error, code: e.code, message: String(e.message) } }
    process.stdout.write(JSON.stringify(out))`
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30000 })
  return { status: r.status, signal: r.signal, out: r.stdout ? JSON.parse(r.stdout) : null, stderr: r.stderr }
}

/** Runs every body in one child, each in its own try; the outcomes in order, or the crash. */
function inOneChild(bodies) {
  const script = `
    const tw = require(${JSON.stringify(PACKAGE)})
    const rec = ${JSON.stringify(RECORD)}
    const token = ${JSON.stringify(PRESENTED)}
    const outs = []
    for (const body of ${JSON.stringify(bodies)}) {
      try { eval(body); outs.push({ threw: false }) }
      catch (e) { outs.push({ threw: true, isError: e instanceof Error, code: e.code, message: String(e.message) }) }
    }
    process.stdout.write(JSON.stringify(outs))`
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60000 })
  assert.ok(r.status === 0 && r.signal === null, `crashed (status ${r.status}, signal ${r.signal}): ${r.stderr}`)
  return JSON.parse(r.stdout)
}

// ---------------------------------------------------------------------------------------------
// Wrong types, undefined and null.

test('a value of the wrong type is a thrown Error with a code, for every function', () => {
  const a = tw.Authority.open(':memory:')
  try {
    const key = tw.ApiKey.fromJSON(RECORD)
    const cases = [
      ['parse(42)', () => tw.parse(42), 'napi'],
      ['parse()', () => tw.parse(), 'napi'],
      ['parse(null)', () => tw.parse(null), 'napi'],
      ['parse(Symbol)', () => tw.parse(Symbol('x')), 'napi'],
      ['parse(1n)', () => tw.parse(1n), 'napi'],
      ['parse strict "yes"', () => tw.parse(PRESENTED, { strict: 'yes' }), 'napi'],
      ['hashSecret(5)', () => tw.hashSecret(5), 'napi'],
      ['hashSecret()', () => tw.hashSecret(), 'napi'],
      ['hashSecret(null)', () => tw.hashSecret(null), 'napi'],
      ['hashSecret({})', () => tw.hashSecret({}), 'napi'],
      ['hashSecret(ArrayBuffer)', () => tw.hashSecret(new ArrayBuffer(1)), 'napi'],
      ['verifyRecord(5)', () => tw.verifyRecord(5, null), 'napi'],
      ['verifyRecord(undefined)', () => tw.verifyRecord(undefined, null), 'napi'],
      ['verifyRecord key {}', () => tw.verifyRecord(PRESENTED, {}), 'napi'],
      ['verifyRecord key "x"', () => tw.verifyRecord(PRESENTED, 'x'), 'napi'],
      ['verifyRecord now "text"', () => tw.verifyRecord(PRESENTED, key, { now: '2026-01-01T00:00:00Z' }), 'TOKENWARD_INVALID_TIMESTAMP'],
      ['verifyRecord now 5', () => tw.verifyRecord(PRESENTED, key, { now: 5 }), 'TOKENWARD_INVALID_TIMESTAMP'],
      ['verifyRecord settings {}', () => tw.verifyRecord(PRESENTED, key, { settings: {} }), 'napi'],
      ['verifyRecord remoteAddr 5', () => tw.verifyRecord(PRESENTED, key, { remoteAddr: 5 }), 'napi'],
      ['extractToken headers "x"', () => tw.extractToken({ headers: 'x' }), 'napi'],
      ['extractToken headers [1, 2]', () => tw.extractToken({ headers: [1, 2] }), 'napi'],
      ['extractToken headers odd', () => tw.extractToken({ headers: ['Cookie'] }), 'napi'],
      ['extractToken header value 5', () => tw.extractToken({ headers: { cookie: 5 } }), 'napi'],
      ['extractToken query 5', () => tw.extractToken({ query: 5 }), 'napi'],
      ['parseDuration(5)', () => tw.parseDuration(5), 'napi'],
      ['parseDurationNs(null)', () => tw.parseDurationNs(null), 'napi'],
      ['formatDuration(null)', () => tw.formatDuration(null), 'napi'],
      ['formatDuration({})', () => tw.formatDuration({}), 'napi'],
      ['Settings({sessionDuration: {}})', () => new tw.Settings({ sessionDuration: {} }), 'TOKENWARD_INVALID_SETTINGS'],
      ['Settings({sessionDuration: [1]})', () => new tw.Settings({ sessionDuration: [1] }), 'TOKENWARD_INVALID_SETTINGS'],
      ['Settings({sessionDuration: true})', () => new tw.Settings({ sessionDuration: true }), 'TOKENWARD_INVALID_SETTINGS'],
      ['Settings({accessUrl: 5})', () => new tw.Settings({ accessUrl: 5 }), 'TOKENWARD_INVALID_SETTINGS'],
      ['Settings("x")', () => new tw.Settings('x'), 'napi'],
      ['Authority.open(5)', () => tw.Authority.open(5), 'napi'],
      ['Authority.open()', () => tw.Authority.open(), 'napi'],
      ['Authority.open settings {}', () => tw.Authority.open(':memory:', {}), 'napi'],
      ['ApiKey.fromJSON()', () => tw.ApiKey.fromJSON(), 'napi'],
      ['ApiKey.fromJSON(5)', () => tw.ApiKey.fromJSON(5), 'TOKENWARD_INVALID_KEY'],
      ['ApiKey.fromJSON(null)', () => tw.ApiKey.fromJSON(null), 'TOKENWARD_INVALID_KEY'],
      ['createTokenSync(5)', () => a.createTokenSync(5), 'napi'],
      ['createTokenSync()', () => a.createTokenSync(), 'napi'],
      ['createTokenSync(null)', () => a.createTokenSync(null), 'napi'],
      ['createTokenSync({})', () => a.createTokenSync({}), 'napi'],
      ['createTokenSync({id: 5})', () => a.createTokenSync({ id: 5 }), 'napi'],
      ['createTokenSync roles "owner"', () => a.createTokenSync({ id: 'x', roles: 'owner' }), 'napi'],
      ["createTokenSync('')", () => a.createTokenSync(''), 'TOKENWARD_INVALID_ARGUMENT'],
      ["createTokenSync({id: ''})", () => a.createTokenSync({ id: '' }), 'TOKENWARD_INVALID_ARGUMENT'],
      ['createTokenSync target 5', () => a.createTokenSync('j', { target: 5 }), 'napi'],
      ['createTokenSync lifetime true', () => a.createTokenSync('j', { lifetime: true }), 'napi'],
      ['createTokenSync lifetime 10n', () => a.createTokenSync('j', { lifetime: 10n }), 'napi'],
      ['createTokenSync scopes "all"', () => a.createTokenSync('j', { scopes: 'all' }), 'napi'],
      ['createTokenSync scopes [5]', () => a.createTokenSync('j', { scopes: [5] }), 'napi'],
      ['createTokenSync scope 5', () => a.createTokenSync('j', { scope: 5 }), 'napi'],
      ['createTokenSync scope null', () => a.createTokenSync('j', { scope: null }), 'napi'],
      ['createTokenSync tokenName 5', () => a.createTokenSync('j', { tokenName: 5 }), 'napi'],
      ['createTokenSync remoteAddr 5', () => a.createTokenSync('j', { remoteAddr: 5 }), 'napi'],
      ['createTokenSync allowList "x"', () => a.createTokenSync('j', { allowList: 'workspace:*' }), 'napi'],
      ['createSessionSync loginType 5', () => a.createSessionSync('j', 5), 'napi'],
      ['createSessionSync remoteAddr {}', () => a.createSessionSync('j', 'password', {}), 'napi'],
      ['authenticateSync()', () => a.authenticateSync(), 'napi'],
      ['authenticateSync(null)', () => a.authenticateSync(null), 'napi'],
      ['authenticateSync(5)', () => a.authenticateSync(5), 'napi'],
      ['authenticateSync remoteAddr 5', () => a.authenticateSync(PRESENTED, 5), 'napi'],
      ['listTokensSync all "yes"', () => a.listTokensSync('j', { all: 'yes' }), 'napi'],
      ['listTokensSync userId 5', () => a.listTokensSync('j', { userId: 5 }), 'napi'],
      ['getKeySync id 5', () => a.getKeySync('j', 5), 'napi'],
      ['expireSync id undefined', () => a.expireSync('j'), 'napi'],
      ['deleteSync actor 5', () => a.deleteSync(5, 'AbCdEfGhIj'), 'napi'],
      ['findTokenSync userId null', () => a.findTokenSync('j', null, 'x'), 'napi'],
      ['deleteUserKeysSync(5)', () => a.deleteUserKeysSync(5), 'napi'],
      ['tokenConfig(5)', () => a.tokenConfig(5), 'napi'],
      ['tokenConfig()', () => a.tokenConfig(), 'napi'],
    ]
    for (const [label, fn, want] of cases) throwsCode(label, fn, want)
  } finally {
    a.close()
  }
})

test('the Promise methods refuse bad arguments with an Error with a code too', async () => {
  const a = tw.Authority.open(':memory:')
  try {
    const cases = [
      () => a.createToken(5),
      () => a.createToken('j', { lifetime: 'forever' }),
      () => a.createToken('j', { allowList: ['badvalue'] }),
      () => a.createSession('j', 'token'),
      () => a.authenticate(5),
      () => a.getKey('j', 'short'),
      () => a.expire('j', 5),
      () => a.listTokens(5),
      () => a.findToken('j'),
      () => a.deleteUserKeys(null),
    ]
    for (const call of cases) {
      const e = await caught(call)
      assert.ok(NAPI_CODES.has(e.code) || e.code.startsWith('TOKENWARD_'), `${call}: ${e.code}`)
    }
  } finally {
    a.close()
  }
})

test('undefined or null where an object is required is an Error with a code', () => {
  const s = new tw.Settings()
  for (const [label, fn] of [
    ['extractToken()', () => tw.extractToken()],
    ['extractToken(null)', () => tw.extractToken(null)],
    ['settings.with()', () => s.with()],
    ['settings.with(null)', () => s.with(null)],
  ]) {
    throwsCode(label, fn, 'napi')
  }
})

test('an options argument that is not an object is refused, not read as no options', () => {
  const a = tw.Authority.open(':memory:')
  try {
    for (const [label, fn] of [
      ['parse options "x"', () => tw.parse(PRESENTED, 'x')],
      ['createTokenSync options "x"', () => a.createTokenSync('j', 'x')],
      ['listTokensSync options "x"', () => a.listTokensSync('j', 'x')],
      ['verifyRecord options "x"', () => tw.verifyRecord(PRESENTED, null, 'x')],
      ['extractToken("x")', () => tw.extractToken('x')],
      ['new Settings(5)', () => new tw.Settings(5)],
      ['new Settings([])', () => new tw.Settings([])],
    ]) {
      const e = caughtSync(fn)
      assert.ok(NAPI_CODES.has(e.code), `${label}: ${e.code}`)
    }
  } finally {
    a.close()
  }
})

test('null or undefined where an argument is optional means its default', () => {
  const a = tw.Authority.open(':memory:', undefined)
  try {
    assert.deepEqual(a.settings.toJSON(), new tw.Settings().toJSON())
    assert.deepEqual(tw.Authority.open(':memory:', null).settings.toJSON(), new tw.Settings().toJSON())
    const { token, key } = a.createTokenSync('jane', undefined)
    assert.equal(a.createTokenSync('jane', null).key.userId, 'jane')
    assert.equal(a.createSessionSync('jane', undefined, undefined).key.loginType, 'password')
    assert.equal(a.createSessionSync('jane', null, null).key.ipAddress, '0.0.0.0')
    assert.equal(a.authenticateSync(token, undefined).key.id, key.id)
    assert.equal(a.authenticateSync(token, null).key.id, key.id)
    assert.equal(a.listTokensSync('jane', undefined).length, 2)
    assert.equal(a.listTokensSync('jane', null).length, 2)
    assert.deepEqual({ ...tw.parse(token, undefined) }, { id: key.id, secret: split(token)[1] })
    assert.deepEqual({ ...tw.parse(token, null) }, { id: key.id, secret: split(token)[1] })
    assert.equal(tw.verifyRecord(token, key, undefined).key, key)
    assert.equal(tw.verifyRecord(token, key, null).key, key)
    assert.equal(tw.verifyRecord(token, key, { now: undefined, settings: undefined, remoteAddr: undefined }).key, key)
    assert.equal(tw.extractToken({}), null)
    assert.deepEqual(new tw.Settings(undefined).toJSON(), new tw.Settings().toJSON())
    assert.deepEqual(new tw.Settings(null).toJSON(), new tw.Settings().toJSON())
    // In settings, null is "not configured" for the access URL only.
    assert.equal(new tw.Settings({ accessUrl: null }).accessUrl, null)
    throwsCode('sessionDuration null', () => new tw.Settings({ sessionDuration: null }), 'TOKENWARD_INVALID_SETTINGS')
  } finally {
    a.close()
  }
})

/** Runs each body in a child and lists those that crash or are not refused with napi's code. */
function misread(bodies) {
  const wrong = []
  for (const body of bodies) {
    const r = inChild(body)
    if (r.signal !== null || r.status !== 0) wrong.push(`${body}: crashed (status ${r.status}, signal ${r.signal})`)
    // Refused as a value of the wrong type: napi's code, not an answer made from garbage.
    else if (!r.out.threw || !r.out.isError || !NAPI_CODES.has(r.out.code)) {
      wrong.push(`${body}: ${JSON.stringify(r.out)}`)
    }
  }
  return wrong
}

test('an instance of another tokenward class passed as an argument is refused, never read as the wrong type', () => {
  assert.deepEqual(
    misread([
      'tw.verifyRecord(token, tw.Authority.open(":memory:"))',
      'tw.Authority.open(":memory:", tw.Authority.open(":memory:"))',
      'tw.verifyRecord(token, tw.ApiKey.fromJSON(rec), { settings: tw.Authority.open(":memory:") })',
      'tw.verifyRecord(token, tw.ApiKey.fromJSON(rec), { settings: tw.ApiKey.fromJSON(rec) })',
      'tw.verifyRecord(token, new tw.Settings())',
      'tw.Authority.open(":memory:", tw.ApiKey.fromJSON(rec))',
      // instanceof says yes: the prototype was swapped, or the object was made from it.
      'tw.verifyRecord(token, Object.setPrototypeOf(new tw.Settings(), tw.ApiKey.prototype))',
      'tw.verifyRecord(token, Object.setPrototypeOf(tw.Authority.open(":memory:"), tw.ApiKey.prototype))',
      'tw.Authority.open(":memory:", Object.setPrototypeOf(tw.ApiKey.fromJSON(rec), tw.Settings.prototype))',
      'tw.verifyRecord(token, Object.create(tw.ApiKey.prototype))',
      'tw.verifyRecord(token, tw.ApiKey.fromJSON(rec), { settings: Object.create(tw.Settings.prototype) })',
    ]),
    [],
  )
})

test('a getter or method called on an object of another class is refused, never read as its class', () => {
  // Every getter and method of each class, on an object of each other class (and a plain
  // object made from its prototype): each must throw, never answer from the wrong memory.
  const classes = {
    ApiKey: 'tw.ApiKey.fromJSON(rec)',
    Settings: 'new tw.Settings()',
    Authority: 'tw.Authority.open(":memory:")',
  }
  const bodies = []
  for (const [name, make] of Object.entries(classes)) {
    const members = Object.getOwnPropertyNames(tw[name].prototype).filter((m) => m !== 'constructor')
    assert.ok(members.length >= 5, `${name}: ${members}`)
    for (const member of members) {
      const descriptor = Object.getOwnPropertyDescriptor(tw[name].prototype, member)
      const fn = descriptor.get ? 'get' : 'value'
      const receivers = Object.entries(classes).filter(([other]) => other !== name).map(([, make]) => make)
      receivers.push(`Object.create(tw.${name}.prototype)`)
      for (const receiver of receivers) {
        bodies.push(`Object.getOwnPropertyDescriptor(tw.${name}.prototype, ${JSON.stringify(member)}).${fn}.call(${receiver})`)
      }
    }
  }
  // V8 itself refuses a method on a receiver of another class ("Illegal invocation", a
  // TypeError without a code); getters, and methods of objects made from the prototype, reach
  // the addon, which refuses them with napi's code.
  const outs = inOneChild(bodies)
  const wrong = bodies.filter((body, i) => {
    const out = outs[i]
    return !out.threw || !out.isError || !(NAPI_CODES.has(out.code) || out.message === 'Illegal invocation')
  })
  assert.deepEqual(wrong.map((body) => `${body}: ${JSON.stringify(outs[bodies.indexOf(body)])}`), [])
  assert.equal(outs.length, bodies.length)
})

test('the constructors the API does not offer throw TOKENWARD_INVALID_ARGUMENT, naming the way in', () => {
  for (const [make, way] of [
    [() => new tw.ApiKey(), 'ApiKey.fromJSON'],
    [() => new tw.Authority(), 'Authority.open'],
    [() => new tw.Authority(':memory:'), 'Authority.open'],
  ]) {
    const e = caughtSync(make)
    assert.equal(e.code, 'TOKENWARD_INVALID_ARGUMENT')
    assert.equal(e.status, 400)
    assert.ok(e.message.includes(way), e.message)
  }
})

// ---------------------------------------------------------------------------------------------
// Big strings.

for (const [store, urlOf] of STORES) {
  test(`1 MiB strings are kept, dropped or refused with a code, on ${store}`, async () => {
    const a = tw.Authority.open(urlOf())
    try {
      const big = 'x'.repeat(MiB)
      const name = (await a.createToken('jane', { tokenName: big })).key
      assert.equal(name.tokenName, big)
      assert.equal((await a.findToken('jane', 'jane', big)).id, name.id)
      const user = (await a.createToken(big)).key
      assert.equal(user.userId, big)
      assert.equal((await a.listTokens(big)).length, 1)
      assert.equal((await a.createToken('jane', { remoteAddr: '1'.repeat(MiB) })).key.ipAddress, '0.0.0.0')
      assert.equal(a.createSessionSync('jane', 'password', big).key.ipAddress, '0.0.0.0')
      assert.equal((await caught(() => a.authenticate(big))).code, 'TOKENWARD_MALFORMED')
      assert.equal((await caught(() => a.authenticate(`AbCdEfGhIj-${big}`))).code, 'TOKENWARD_MALFORMED')
      assert.equal((await caught(() => a.getKey('jane', big))).code, 'TOKENWARD_INVALID_TOKEN')
      assert.equal((await caught(() => a.findToken('jane', 'jane', `${big}y`))).code, 'TOKENWARD_NOT_FOUND')
      assert.equal((await caught(() => a.createToken('jane', { scopes: [big] }))).code, 'TOKENWARD_INVALID_SCOPE')
      assert.equal((await caught(() => a.createToken('jane', { allowList: [big] }))).code, 'TOKENWARD_INVALID_ALLOW_LIST')
      assert.equal((await caught(() => a.createToken('jane', { lifetime: big }))).code, 'TOKENWARD_INVALID_DURATION')
      assert.equal((await caught(() => a.createSession('jane', big))).code, 'TOKENWARD_INVALID_LOGIN_TYPE')
    } finally {
      a.close()
    }
  })
}

test('1 MiB strings through the stateless functions', () => {
  const big = 'x'.repeat(MiB)
  assert.deepEqual(tw.hashSecret(big), sha256(big))
  assert.deepEqual(tw.hashSecret(Buffer.from(big)), sha256(big))
  throwsCode('parse', () => tw.parse(big), 'TOKENWARD_INVALID_TOKEN')
  throwsCode('parseDuration', () => tw.parseDuration('1'.repeat(MiB)), 'TOKENWARD_INVALID_DURATION')
  // 1 MiB of "1h": 524288 hours, well within Go's range; one byte more makes it invalid.
  assert.equal(tw.parseDurationNs('1h'.repeat(MiB / 2)), 524288n * 3600n * 1000000000n)
  throwsCode('parseDurationNs', () => tw.parseDurationNs(`${'1h'.repeat(MiB / 2)}x`), 'TOKENWARD_INVALID_DURATION')
  throwsCode('settings', () => new tw.Settings({ accessUrl: big }), 'TOKENWARD_INVALID_SETTINGS')
  const found = tw.extractToken({ headers: { authorization: `Bearer ${big}`, cookie: `a=${big}` }, query: `x=${big}` })
  assert.deepEqual({ ...found }, { token: big, source: 'bearer' })
  const key = tw.ApiKey.fromJSON(RECORD)
  throwsCode('verifyRecord', () => tw.verifyRecord(big, key), 'TOKENWARD_MALFORMED')
  throwsCode('verifyRecord remoteAddr', () => tw.verifyRecord(PRESENTED, key, { remoteAddr: big }), 'TOKENWARD_EXPIRED')
  throwsCode('fromJSON', () => tw.ApiKey.fromJSON(`{"id":"${big}"`), 'TOKENWARD_INVALID_KEY')
})

// ---------------------------------------------------------------------------------------------
// Lone surrogates: N-API hands Rust UTF-8, each lone surrogate replaced by U+FFFD.

test('a lone surrogate reaches the core as U+FFFD, wherever a string goes', async () => {
  // U+FFFD is 3 bytes of UTF-8: with 7 more, a 10-byte id.
  assert.deepEqual({ ...tw.parse(`${SURROGATE}abcdefg-${'s'.repeat(22)}`) }, {
    id: `${REPLACEMENT}abcdefg`,
    secret: 's'.repeat(22),
  })
  throwsCode('strict', () => tw.parse(`${SURROGATE}abcdefg-${'s'.repeat(22)}`, { strict: true }), 'TOKENWARD_INVALID_TOKEN')
  // node:crypto makes the same replacement.
  assert.deepEqual(tw.hashSecret(SURROGATE), sha256(REPLACEMENT))
  assert.deepEqual(tw.hashSecret(SURROGATE), sha256(SURROGATE))
  assert.deepEqual(tw.hashSecret('\udc00x'), sha256(`${REPLACEMENT}x`))
  assert.deepEqual({ ...tw.extractToken({ headers: { 'coder-session-token': `ab${SURROGATE}` } }) }, {
    token: `ab${REPLACEMENT}`,
    source: 'header',
  })
  throwsCode('parseDuration', () => tw.parseDuration(`1${SURROGATE}`), 'TOKENWARD_INVALID_DURATION')
  assert.equal(new tw.Settings({ accessUrl: `https://${SURROGATE}.example.com` }).accessUrl, `https://${REPLACEMENT}.example.com`)

  const a = tw.Authority.open(':memory:')
  try {
    const { key } = await a.createToken(SURROGATE, { tokenName: `ci${SURROGATE}`, remoteAddr: SURROGATE })
    assert.equal(key.userId, REPLACEMENT)
    assert.equal(key.tokenName, `ci${REPLACEMENT}`)
    assert.equal(key.ipAddress, '0.0.0.0')
    // Two different lone surrogates name the same user: both arrive as U+FFFD.
    assert.deepEqual((await a.listTokens('\udc00')).map((k) => k.id), [key.id])
    assert.equal((await a.findToken(REPLACEMENT, REPLACEMENT, `ci${'\udfff'}`)).id, key.id)
    // Go's %q shows U+FFFD as itself (it is printable).
    const e = await caught(() => a.createSession('jane', SURROGATE))
    assert.equal(e.code, 'TOKENWARD_INVALID_LOGIN_TYPE')
    assert.equal(e.detail, `unknown login type "${REPLACEMENT}"`)
    const scope = await caught(() => a.createToken('jane', { scopes: [SURROGATE] }))
    assert.equal(scope.detail, `invalid or unsupported API key scope: "${REPLACEMENT}"`)
  } finally {
    a.close()
  }
})

test('a token with a lone surrogate is refused without showing its secret', async () => {
  const a = tw.Authority.open(':memory:')
  try {
    const { token, key } = await a.createToken('jane')
    const secret = split(token)[1]
    // U+FFFD is 3 bytes of UTF-8: in place of 3 characters, the secret keeps its 22 bytes.
    const cases = [
      [`${token}${SURROGATE}`, 'TOKENWARD_MALFORMED'],
      [`${token.slice(0, 11)}${SURROGATE}${secret.slice(3)}`, 'TOKENWARD_INVALID_SECRET'], // 3 + 19 bytes
      [`${SURROGATE}${token.slice(1)}`, 'TOKENWARD_MALFORMED'], // a 12-byte id
    ]
    for (const [presented, code] of cases) {
      for (const call of [
        () => a.authenticate(presented),
        () => a.authenticateSync(presented),
        () => tw.verifyRecord(presented, key),
      ]) {
        const e = await caught(call)
        assert.equal(e.code, code, presented)
        assertNoSecret(e, secret)
        assertNoSecret(e, secret.slice(0, 16))
      }
    }
    const parseError = caughtSync(() => tw.parse(`${token}${SURROGATE}`))
    assertNoSecret(parseError, secret)
  } finally {
    a.close()
  }
})

// ---------------------------------------------------------------------------------------------
// Times.

test('an invalid Date as now is refused, never read as the Unix epoch', () => {
  const key = tw.ApiKey.fromJSON(RECORD)
  const e = caughtSync(() => tw.verifyRecord(PRESENTED, key, { now: new Date(NaN) }))
  assert.notEqual(e.code, 'TOKENWARD_EXPIRED', 'an invalid Date is not a time')
  assert.ok(e.code === 'TOKENWARD_INVALID_TIMESTAMP' || NAPI_CODES.has(e.code), e.code)
})

test('a time outside what Date or microseconds can hold is refused with a code', () => {
  const key = tw.ApiKey.fromJSON(RECORD)
  // The record expired in 2000: any real now refuses it as expired.
  throwsCode('now', () => tw.verifyRecord(PRESENTED, key, { now: new Date() }), 'TOKENWARD_EXPIRED')
  throwsCode('µs 2^70', () => tw.verifyRecord(PRESENTED, key, { now: 2n ** 70n }), 'TOKENWARD_INVALID_TIMESTAMP')
  throwsCode('µs -2^70', () => tw.verifyRecord(PRESENTED, key, { now: -(2n ** 70n) }), 'TOKENWARD_INVALID_TIMESTAMP')
  for (const ms of [8.64e15, -8.64e15]) {
    const e = caughtSync(() => tw.verifyRecord(PRESENTED, key, { now: new Date(ms) }))
    assert.ok(e.code === 'TOKENWARD_INVALID_TIMESTAMP' || NAPI_CODES.has(e.code), `${ms}: ${e.code}`)
  }
  // A record's timestamps are RFC 3339 in what a record can hold.
  for (const expires_at of ['yesterday', '10000-01-01T00:00:00Z', '', '2026-13-01T00:00:00Z']) {
    throwsCode(expires_at, () => tw.ApiKey.fromJSON({ ...RECORD, expires_at }), 'TOKENWARD_INVALID_KEY')
  }
})

// ---------------------------------------------------------------------------------------------
// Durations, settings, allow lists, lifetimes.

const BAD_DURATIONS = ['', 'soon', '1', '1x', '1h-1m', 'h', '.s', '1e3h', '9223372036854775808ns', '2562048h', ' 1h', '1h ', '1H', '--1s']

test('bad duration strings are TOKENWARD_INVALID_DURATION with Go\'s words, everywhere', async () => {
  const a = tw.Authority.open(':memory:')
  try {
    for (const text of BAD_DURATIONS) {
      for (const [label, fn] of [
        ['parseDuration', () => tw.parseDuration(text)],
        ['parseDurationNs', () => tw.parseDurationNs(text)],
        ['formatDuration', () => tw.formatDuration(text)],
      ]) {
        const e = throwsCode(`${label}(${JSON.stringify(text)})`, fn, 'TOKENWARD_INVALID_DURATION')
        assert.match(e.detail, /^time: (invalid duration|missing unit in duration|unknown unit .* in duration) "/)
      }
      const e = await caught(() => a.createToken('jane', { lifetime: text }))
      assert.equal(e.code, 'TOKENWARD_INVALID_DURATION', text)
      const s = caughtSync(() => new tw.Settings({ sessionDuration: text }))
      assert.equal(s.code, 'TOKENWARD_INVALID_SETTINGS', text)
      assert.match(s.detail, /session_duration/)
    }
    for (const ns of [2n ** 63n, -(2n ** 63n) - 1n, 2n ** 64n]) {
      throwsCode(`formatDuration(${ns}n)`, () => tw.formatDuration(ns), 'TOKENWARD_INVALID_DURATION')
    }
    for (const ms of [NaN, Infinity, -Infinity, 1e300, 9.3e12]) {
      throwsCode(`formatDuration(${ms})`, () => tw.formatDuration(ms), 'TOKENWARD_INVALID_DURATION')
    }
    assert.equal(tw.formatDuration(-(2n ** 63n)), '-2562047h47m16.854775808s')
    assert.equal(tw.formatDuration(2n ** 63n - 1n), '2562047h47m16.854775807s')
  } finally {
    a.close()
  }
})

test('bad settings names and values are TOKENWARD_INVALID_SETTINGS naming the setting', () => {
  const cases = [
    [{ bogus: '1h' }, /bogus/],
    [{ SessionDuration: '1h' }, /SessionDuration|_session_duration/],
    [{ sessionDuration: 'soon' }, /session_duration/],
    [{ sessionDuration: 0 }, /session_duration/],
    [{ sessionDuration: '0' }, /session_duration/],
    [{ sessionDuration: -1 }, /session_duration/],
    [{ defaultTokenLifetime: '-1h' }, /default_token_lifetime/],
    [{ maxTokenLifetime: '-1h' }, /max_token_lifetime/],
    [{ maxAdminTokenLifetime: -HOUR_MS }, /max_admin_token_lifetime/],
    [{ apiKeysRetention: -1 }, /api_keys_retention/],
    [{ sessionDuration: 1e300 }, /sessionDuration/],
    [{ disableSessionExpiryRefresh: 'maybe' }, /disable_session_expiry_refresh/],
    [{ disableSessionExpiryRefresh: null }, /disable_session_expiry_refresh/],
    [{ accessUrl: 'nohost' }, /access_url/],
    [{ accessUrl: 'https://' }, /access_url/],
    [{ accessUrl: 'ftp://coder.example.com' }, /access_url/],
  ]
  for (const [values, names] of cases) {
    for (const make of [() => new tw.Settings(values), () => new tw.Settings().with(values)]) {
      const e = throwsCode(JSON.stringify(values), make, 'TOKENWARD_INVALID_SETTINGS')
      assert.match(e.detail, names, JSON.stringify(values))
    }
  }
  // NaN and Infinity are not JSON numbers: napi's serde conversion refuses them.
  for (const ms of [NaN, Infinity]) {
    const e = caughtSync(() => new tw.Settings({ sessionDuration: ms }))
    assert.ok(e.code === 'TOKENWARD_INVALID_SETTINGS' || NAPI_CODES.has(e.code), `${ms}: ${e.code}`)
  }
})

test('bad allow-list entries are TOKENWARD_INVALID_ALLOW_LIST, Coder\'s 400', async () => {
  const a = tw.Authority.open(':memory:')
  try {
    const entries = [
      'badvalue',
      'workspace:nope',
      'spaceship:*',
      ':',
      '',
      'workspace:',
      ':*',
      5,
      null,
      true,
      [],
      ['workspace', '*'],
      {},
      { type: 'workspace' },
      { id: '*' },
      { type: 'workspace', id: 5 },
      { type: 'spaceship', id: '*' },
    ]
    for (const entry of entries) {
      const e = await caught(() => a.createToken('jane', { allowList: [entry] }))
      assert.equal(e.code, 'TOKENWARD_INVALID_ALLOW_LIST', JSON.stringify(entry))
      assert.equal(e.status, 400)
      assert.equal(e.message, 'Failed to create API key.')
      assert.match(e.detail, /^invalid allow_list entry /)
    }
    assert.deepEqual(await a.listTokens('jane'), [])
  } finally {
    a.close()
  }
})

test('huge, negative and non-finite lifetimes are refused with a code, and none is stored', async () => {
  const a = tw.Authority.open(':memory:')
  try {
    const cases = [
      ['9223372036854775807ns', 'TOKENWARD_LIFETIME_TOO_LONG'],
      ['2562047h', 'TOKENWARD_LIFETIME_TOO_LONG'],
      ['876601h', 'TOKENWARD_LIFETIME_TOO_LONG'],
      [876600 * HOUR_MS + 1, 'TOKENWARD_LIFETIME_TOO_LONG'],
      ['-9223372036854775808ns', 'TOKENWARD_INVALID_LIFETIME'],
      ['-1ns', 'TOKENWARD_INVALID_LIFETIME'],
      [-1, 'TOKENWARD_INVALID_LIFETIME'],
      [1e15, 'TOKENWARD_INVALID_DURATION'], // ms beyond Go's range
      [-1e15, 'TOKENWARD_INVALID_DURATION'],
      [Number.MAX_VALUE, 'TOKENWARD_INVALID_DURATION'],
      [NaN, 'TOKENWARD_INVALID_DURATION'],
      [Infinity, 'TOKENWARD_INVALID_DURATION'],
      [-Infinity, 'TOKENWARD_INVALID_DURATION'],
      ['9223372036854775808ns', 'TOKENWARD_INVALID_DURATION'],
    ]
    for (const [lifetime, code] of cases) {
      const e = await caught(() => a.createToken('jane', { lifetime }))
      assert.equal(e.code, code, `lifetime ${lifetime}: ${e.detail}`)
      assert.equal(e.status, 400)
    }
    assert.deepEqual(await a.listTokens('jane', { includeExpired: true }), [])
    // The admin maximum can be the whole of Go's range: the longest lifetime is then stored.
    const wide = tw.Authority.open(':memory:', new tw.Settings({ maxTokenLifetime: '9223372036854775807ns' }))
    try {
      const { key } = await wide.createToken('jane', { lifetime: '9223372036854775807ns' })
      // The span, to the nearest µs: 9223372036854775807 ns.
      assert.equal(key.expiresAtMicros - key.createdAtMicros, 9223372036854776n)
      assert.equal(key.lifetimeSeconds, 9223372036)
    } finally {
      wide.close()
    }
  } finally {
    a.close()
  }
})

test('bad key ids, login types and store URLs are refused with a code', async () => {
  const a = tw.Authority.open(':memory:')
  try {
    for (const id of ['', 'short', 'elevenchars', 'AbCdEfGhIj-', PRESENTED]) {
      for (const call of [() => a.getKey('jane', id), () => a.expire('jane', id), () => a.delete('jane', id)]) {
        assert.equal((await caught(call)).code, 'TOKENWARD_INVALID_TOKEN', id)
      }
    }
    for (const id of ['AbCdEfGh!j', 'ÄbCdEfGhI', '0123456789']) {
      // 10 bytes, whatever they are: no such key.
      assert.equal((await caught(() => a.getKey('jane', id))).code, 'TOKENWARD_NOT_FOUND', id)
    }
    for (const loginType of ['', 'Password', 'magic', 'token']) {
      const e = await caught(() => a.createSession('jane', loginType))
      assert.ok(['TOKENWARD_INVALID_LOGIN_TYPE', 'TOKENWARD_INVALID_ARGUMENT'].includes(e.code), loginType)
    }
    // postgres:// URLs connect: test/postgres.test.js, against a server.
    for (const url of ['', 'sqlite:', 'mysql://db/keys', 'mysql://admin:hunter2@db/keys']) {
      const e = throwsCode(url, () => tw.Authority.open(url), 'TOKENWARD_INVALID_ARGUMENT')
      for (const text of [e.message, e.detail, e.body, e.stack]) assert.ok(!text.includes('hunter2'), text)
    }
  } finally {
    a.close()
  }
})

test('bad key records are TOKENWARD_INVALID_KEY', () => {
  const cases = [
    '{',
    '',
    '[]',
    {},
    { ...RECORD, hashed_secret: 'zz' },
    { ...RECORD, hashed_secret: '0' },
    { ...RECORD, login_type: 'magic' },
    { ...RECORD, lifetime_seconds: '1' },
    { ...RECORD, lifetime_seconds: 2 ** 63 },
    { ...RECORD, id: 'abc' },
    { ...RECORD, ip_address: 'nope' },
    { ...RECORD, allow_list: ['x'] },
    { ...RECORD, scopes: 'coder:all' },
    (() => {
      const { id, ...rest } = RECORD
      void id
      return rest
    })(),
  ]
  for (const record of cases) {
    throwsCode(JSON.stringify(record).slice(0, 80), () => tw.ApiKey.fromJSON(record), 'TOKENWARD_INVALID_KEY')
  }
})

// ---------------------------------------------------------------------------------------------
// Secrets never shown.

for (const [store, urlOf] of STORES) {
  describe(`no error shows a secret, on ${store}`, () => {
    test('no rejection shows the secret presented or minted', async () => {
      const a = tw.Authority.open(urlOf())
      try {
        const other = (await a.createToken('bob')).token
        const { token, key } = await a.createSession('jane')
        const [id, secret] = split(token)
        const wrong = 'W'.repeat(22)
        const presented = [
          `${token}x`,
          token.slice(0, -1),
          `${token}-${secret}`,
          token.replace('-', '_'),
          ` ${token}`,
          `${token} `,
          `${id}--${secret}`,
          `${id}-${secret.slice(0, -1)}é`,
          `${'é'.repeat(5)}-${secret}`,
          `0123456789-${secret}`, // an unknown id with the real secret
          `${id}-${wrong}`, // the right id with a wrong secret
          `${id}-${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`,
          `${other.slice(0, 11)}${secret}`, // another key's id
        ]
        const errors = []
        for (const text of presented) {
          for (const call of [
            () => a.authenticate(text),
            () => a.authenticateSync(text),
            () => tw.verifyRecord(text, key),
            () => tw.parse(text),
            () => tw.parse(text, { strict: true }),
            () => a.getKey('jane', text),
            () => a.expire('bob', text),
            () => a.delete('bob', text),
            () => a.findToken('bob', 'bob', text),
          ]) {
            try {
              await call()
            } catch (e) {
              errors.push(e)
            }
          }
        }
        await a.expire('jane', key.id)
        errors.push(await caught(() => a.authenticate(token)))
        errors.push(caughtSync(() => tw.verifyRecord(token, a.getKeySync('jane', key.id))))
        await a.delete('jane', key.id)
        errors.push(await caught(() => a.authenticate(token)))
        const codes = new Set(errors.map((e) => e.code))
        for (const code of ['MALFORMED', 'UNKNOWN_KEY', 'INVALID_SECRET', 'EXPIRED', 'INVALID_TOKEN', 'NOT_FOUND']) {
          assert.ok(codes.has(`TOKENWARD_${code}`), `no ${code} among ${[...codes]}`)
        }
        for (const e of errors) {
          for (const hidden of [secret, secret.slice(0, 16), wrong, split(other)[1]]) assertNoSecret(e, hidden)
        }
      } finally {
        a.close()
      }
    })

    test('no error shows the secret of a minted token', async () => {
      const a = tw.Authority.open(urlOf())
      try {
        const { token, key } = await a.createToken('jane', { tokenName: 'ci' })
        const secret = split(token)[1]
        const errors = [
          await caught(() => a.createToken('jane', { tokenName: 'ci' })), // Conflict
          await caught(() => a.createToken('bob', { target: 'jane' })), // Forbidden
          await caught(() => a.createToken('jane', { lifetime: '876601h' })),
          await caught(() => a.getKey('bob', key.id)),
          await caught(() => a.expire('bob', key.id)),
          await caught(() => a.findToken('bob', 'jane', token)),
          caughtSync(() => a.getKeySync('jane', token)),
        ]
        a.close()
        errors.push(await caught(() => a.authenticate(token)))
        errors.push(caughtSync(() => a.authenticateSync(token)))
        for (const e of errors) {
          assertNoSecret(e, secret)
          assertNoSecret(e, secret.slice(0, 16))
          assertNoSecret(e, key.hashedSecret.toString('hex'))
        }
      } finally {
        a.close()
      }
    })
  })
}

test('napi conversion errors do not echo a token passed where another type goes', () => {
  const token = tw.generate()
  const secret = split(token)[1]
  const a = tw.Authority.open(':memory:')
  try {
    for (const fn of [
      () => tw.verifyRecord(token, token),
      () => tw.verifyRecord(token, null, { now: token }),
      () => tw.verifyRecord(token, null, { settings: token }),
      () => tw.hashSecret([token]),
      () => a.createTokenSync({ id: token, roles: token }),
      () => a.createTokenSync('jane', { lifetime: [token] }),
      () => a.createTokenSync('jane', { target: [token] }),
      () => tw.extractToken({ headers: token }),
      () => tw.formatDuration([token]),
    ]) {
      assertNoSecret(caughtSync(fn), secret)
    }
  } finally {
    a.close()
  }
})

test('an access URL password never shows in an error', () => {
  const e = throwsCode('settings', () => new tw.Settings({ accessUrl: 'ftp://admin:hunter2@coder.example.com' }), 'TOKENWARD_INVALID_SETTINGS')
  assertNoSecret(e, 'hunter2')
  const env = { ...process.env, CODER_ACCESS_URL: 'ftp://admin:hunter2@coder.example.com' }
  delete env.TOKENWARD_ACCESS_URL
  const script = `
    try { require(${JSON.stringify(PACKAGE)}).Settings.fromEnv(); process.stdout.write('{}') }
    catch (e) { process.stdout.write(JSON.stringify({ code: e.code, texts: [e.message, e.detail, e.body, e.stack] })) }`
  const r = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8' })
  const out = JSON.parse(r.stdout)
  assert.equal(out.code, 'TOKENWARD_INVALID_SETTINGS')
  assert.ok(out.texts.join(' ').includes('CODER_ACCESS_URL'))
  assert.ok(!out.texts.join(' ').includes('hunter2'))
})

test('no object the API returns shows a secret when inspected or serialised', async () => {
  const util = require('node:util')
  const a = tw.Authority.open(':memory:')
  try {
    const { token, key } = await a.createToken('jane')
    const secret = split(token)[1]
    const digest = key.hashedSecret.toString('hex')
    const verified = await a.authenticate(token, '192.0.2.9')
    for (const obj of [key, verified, verified.key, verified.update, a, a.settings, tw.verifyRecord(token, key)]) {
      for (const text of [util.inspect(obj, { depth: 5 }), JSON.stringify(obj, (k, v) => (typeof v === 'bigint' ? String(v) : v)) || '']) {
        assert.ok(!text.includes(secret) && !text.includes(secret.slice(0, 16)), text)
        assert.ok(!text.includes(digest) && !text.includes(digest.slice(0, 16)), text)
      }
    }
    assert.ok(!JSON.stringify(key).includes('hashed_secret'))
    // The storage form is the one place the hash shows, on purpose.
    assert.equal(key.toStorageJSON().hashed_secret, digest)
  } finally {
    a.close()
  }
})

test('records are immutable: assigning a getter changes nothing', () => {
  const key = tw.ApiKey.fromJSON(RECORD)
  try {
    key.id = 'ZZZZZZZZZZ'
  } catch {
    // a setter-less accessor throws in strict mode: either way, nothing changes
  }
  assert.equal(key.id, RECORD.id)
  const s = new tw.Settings()
  try {
    s.sessionDuration = 1
  } catch {
    // as above
  }
  assert.equal(s.sessionDuration, 24 * HOUR_MS)
})
