'use strict'
// The Node binding's behaviour: the whole lifecycle of an Authority on a ':memory:' store and
// on a SQLite file, each store operation through its Promise and through its ...Sync twin;
// ApiKey's storage and public forms; Settings (defaults, values, the environment); the
// CommonJS and ESM entry points.
//
// Expected values come from Coder's rules (docs/compatibility.md, cited as §N) and from
// node:crypto and Date, never from tokenward's output.

const { describe, test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const path = require('node:path')
const { pathToFileURL } = require('node:url')

const {
  CHALLENGE_EXPIRED,
  DAY_MS,
  HOUR_MS,
  INTERNAL,
  MISSING_DETAIL,
  NOT_FOUND,
  OWNER,
  PACKAGE,
  STORES,
  TOKEN_RE,
  assertDateMatchesMicros,
  caught,
  caughtSync,
  checkBody,
  checkOperational,
  checkRejection,
  expiredDetail,
  sha256,
  sleep,
  split,
  sqlitePath,
  tsMicros,
  tw,
} = require('./support.js')

const HOUR_US = 3600n * 1000000n
const EPOCH_US = 0n
const WORKSPACE = '0b0b0b0b-1c1c-4d4d-8e8e-9f9f9f9f9f9f'
const VALIDATE = 'Failed to validate create API key request.'
const CREATE = 'Failed to create API key.'

/** Now, in µs, by Date (a window of ±1 s around it brackets the store's clock). */
const nowUs = () => BigInt(Date.now()) * 1000n

const STORE_OPS = [
  'createToken',
  'createSession',
  'authenticate',
  'listTokens',
  'getKey',
  'findToken',
  'expire',
  'delete',
  'deleteUserKeys',
  'purgeExpired',
]

/**
 * The authority's store operations as `mode` runs them, every one awaited alike: 'async'
 * calls the method (which must return a Promise), 'sync' its ...Sync twin (which must not).
 */
function opsOf(authority, mode) {
  const ops = {}
  for (const name of STORE_OPS) {
    ops[name] =
      mode === 'async'
        ? (...args) => {
            const p = authority[name](...args)
            assert.ok(p instanceof Promise, `${name} returns a Promise`)
            return p
          }
        : async (...args) => {
            const v = authority[`${name}Sync`](...args)
            assert.ok(!(v instanceof Promise), `${name}Sync returns its value`)
            return v
          }
  }
  return ops
}

/** The same key, field by field (ApiKey objects are distinct per call). */
function assertSameKey(got, want) {
  assert.deepEqual(got.toStorageJSON(), want.toStorageJSON())
}

// ---------------------------------------------------------------------------------------------
// The lifecycle, on both stores, through both call styles.

for (const [store, urlOf] of STORES) {
  for (const mode of ['async', 'sync']) {
    describe(`lifecycle on ${store}, ${mode}`, () => {
      /** Opens the store (with settings, if given), closed after the test. */
      const open = (t, settings) => {
        const authority = tw.Authority.open(urlOf(), settings)
        t.after(() => authority.close())
        return { a: authority, ops: opsOf(authority, mode) }
      }

      test('a created token is named, hashed with SHA-256 and lasts the default lifetime', async (t) => {
        const { a, ops } = open(t)
        const before = nowUs() - 1000000n
        const { token, key } = await ops.createToken('jane', {
          tokenName: 'ci',
          remoteAddr: '198.51.100.4',
        })
        const after = nowUs() + 1000000n
        const [id, secret] = split(token)
        assert.equal(key.id, id)
        assert.deepEqual(key.hashedSecret, sha256(secret))
        assert.equal(key.userId, 'jane')
        assert.equal(key.loginType, 'token')
        assert.equal(key.tokenName, 'ci')
        assert.ok(before <= key.createdAtMicros && key.createdAtMicros <= after)
        assert.equal(key.updatedAtMicros, key.createdAtMicros)
        assert.equal(key.expiresAtMicros - key.createdAtMicros, 168n * HOUR_US)
        assert.equal(key.lifetimeSeconds, 168 * 3600)
        assert.equal(key.lastUsedMicros, EPOCH_US) // §4.1 step 6
        assert.equal(key.lastUsed.getTime(), 0)
        assert.equal(key.ipAddress, '198.51.100.4')
        assert.deepEqual(key.scopes, ['coder:all'])
        assert.equal(key.scope, 'all')
        assert.deepEqual(key.toJSON().allow_list, [{ type: '*', id: '*' }])
        for (const f of ['lastUsed', 'expiresAt', 'createdAt', 'updatedAt']) {
          assertDateMatchesMicros(f, key[f], key[`${f}Micros`])
        }
        assert.equal(a.authenticateSync(token).key.id, id)
      })

      test('an unnamed token gets a generated adjective_surname digit name', async (t) => {
        const { ops } = open(t)
        const names = []
        for (let i = 0; i < 3; i++) names.push((await ops.createToken('jane')).key.tokenName)
        for (const name of names) assert.match(name, /^[a-z]+_[a-z]+[0-9]$/)
        assert.equal(new Set(names).size, 3)
      })

      test('a lifetime sets the expiry to the microsecond and the whole seconds', async (t) => {
        const { ops } = open(t)
        const cases = [
          ['48h', 48n * HOUR_US, 172800],
          ['30d', 30n * 24n * HOUR_US, 30 * 86400],
          ['1h30m', 90n * 60000000n, 5400],
          [48 * HOUR_MS, 48n * HOUR_US, 172800], // milliseconds
          [1500, 1500000n, 1], // whole seconds, truncated
          ['59.999999s', 59999999n, 59],
          ['999999999ns', 1000000n, 86400], // nearest µs; 0 whole seconds stored as 86400
          ['876600h', 876600n * HOUR_US, 876600 * 3600], // equal to the maximum
          [undefined, 168n * HOUR_US, 604800],
          [0, 168n * HOUR_US, 604800], // zero: the default (§4.2 step 6)
          ['0s', 168n * HOUR_US, 604800],
        ]
        for (const [lifetime, span, seconds] of cases) {
          const { key } = await ops.createToken('jane', { lifetime })
          assert.equal(key.expiresAtMicros - key.createdAtMicros, span, `lifetime ${lifetime}`)
          assert.equal(key.lifetimeSeconds, seconds, `lifetime ${lifetime}`)
        }
      })

      test("a lifetime over the member's maximum is TOKENWARD_LIFETIME_TOO_LONG", async (t) => {
        const { ops } = open(t)
        for (const lifetime of ['876600h1ns', 876601 * HOUR_MS]) {
          const e = await caught(() => ops.createToken('jane', { lifetime }))
          assert.equal(e.code, 'TOKENWARD_LIFETIME_TOO_LONG')
          checkOperational(e, {
            status: 400,
            message: VALIDATE,
            detail: 'lifetime must be less than 876600h0m0s',
          })
        }
        assert.deepEqual(await ops.listTokens('jane'), [])
      })

      test("an Owner's maximum is the admin maximum, and the target's roles count", async (t) => {
        const { ops } = open(t)
        await ops.createToken(OWNER, { lifetime: '168h' })
        const e = await caught(() => ops.createToken(OWNER, { lifetime: '169h' }))
        assert.equal(e.code, 'TOKENWARD_LIFETIME_TOO_LONG')
        assert.equal(e.detail, 'lifetime must be less than 168h0m0s')
        const { key } = await ops.createToken(OWNER, { target: 'jane', lifetime: '169h' })
        assert.equal(key.userId, 'jane')
      })

      test('the admin maximum replaces the member maximum even when smaller', async (t) => {
        const { ops } = open(t, new tw.Settings({ maxTokenLifetime: '14d', maxAdminTokenLifetime: '7d' }))
        await ops.createToken(OWNER, { lifetime: '6d' })
        assert.equal((await caught(() => ops.createToken(OWNER, { lifetime: '8d' }))).code, 'TOKENWARD_LIFETIME_TOO_LONG')
        await ops.createToken('jane', { lifetime: '10d' })
        const e = await caught(() => ops.createToken('jane', { lifetime: '15d' }))
        assert.equal(e.detail, 'lifetime must be less than 336h0m0s')
      })

      test('a negative lifetime is TOKENWARD_INVALID_LIFETIME', async (t) => {
        const { ops } = open(t)
        for (const lifetime of ['-1h', '-1ns', -1000]) {
          const e = await caught(() => ops.createToken('jane', { lifetime }))
          assert.equal(e.code, 'TOKENWARD_INVALID_LIFETIME', `lifetime ${lifetime}`)
          checkOperational(e, {
            status: 400,
            message: VALIDATE,
            detail: 'lifetime must be positive number greater than 0',
          })
        }
      })

      test("token scopes are Coder's, and an unknown scope is refused", async (t) => {
        const { a, ops } = open(t)
        const cases = [
          [{}, ['coder:all'], 'all'],
          [{ scopes: ['workspace:read', 'all'] }, ['workspace:read', 'coder:all'], 'all'],
          [{ scope: 'application_connect' }, ['coder:application_connect'], 'application_connect'],
          [{ scope: 'all', scopes: ['template:use'] }, ['template:use'], ''],
          [{ scopes: ['all', 'coder:all', 'all'] }, ['coder:all'], 'all'],
          [{ scopes: ['coder:workspaces.operate'] }, ['coder:workspaces.operate'], ''],
        ]
        for (const [options, scopes, scope] of cases) {
          const { key } = await ops.createToken('jane', options)
          assert.deepEqual(key.scopes, scopes, JSON.stringify(options))
          assert.equal(key.scope, scope, JSON.stringify(options))
          assert.deepEqual(a.getKeySync('jane', key.id).scopes, scopes)
        }
        for (const options of [{ scopes: ['everything'] }, { scope: 'everything' }, { scopes: ['Workspace:read'] }]) {
          const name = (options.scopes || [options.scope])[0]
          const e = await caught(() => ops.createToken('jane', options))
          assert.equal(e.code, 'TOKENWARD_INVALID_SCOPE')
          checkOperational(e, {
            status: 400,
            message: CREATE,
            detail: `invalid or unsupported API key scope: "${name}"`,
          })
        }
      })

      test('an allow list takes type:id strings and {type, id} objects', async (t) => {
        const { ops } = open(t)
        const strings = await ops.createToken('jane', {
          allowList: [`workspace:${WORKSPACE}`, 'template:*', `workspace:${WORKSPACE}`],
        })
        assert.deepEqual(strings.key.toJSON().allow_list, [
          { type: 'workspace', id: WORKSPACE },
          { type: 'template', id: '*' },
        ])
        const objects = [
          { type: 'workspace', id: WORKSPACE },
          { type: 'template', id: '*' },
        ]
        const fromObjects = await ops.createToken('jane', { allowList: objects })
        assert.deepEqual(fromObjects.key.toJSON().allow_list, objects)
        const mixed = await ops.createToken('jane', {
          allowList: ['template:*', { type: 'workspace', id: WORKSPACE }],
        })
        assert.deepEqual(mixed.key.toJSON().allow_list, [
          { type: 'template', id: '*' },
          { type: 'workspace', id: WORKSPACE },
        ])
        // *:* allows all the rest; an empty list is everything (§4.1 step 3).
        const all = await ops.createToken('jane', { allowList: ['template:*', '*:*'] })
        assert.deepEqual(all.key.toJSON().allow_list, [{ type: '*', id: '*' }])
        const empty = await ops.createToken('jane', { allowList: [] })
        assert.deepEqual(empty.key.toJSON().allow_list, [{ type: '*', id: '*' }])
        for (const entry of ['badvalue', 'workspace:nope', 'spaceship:*', ':', { type: 'workspace' }]) {
          const e = await caught(() => ops.createToken('jane', { allowList: [entry] }))
          assert.equal(e.code, 'TOKENWARD_INVALID_ALLOW_LIST', JSON.stringify(entry))
          assert.equal(e.status, 400)
          assert.equal(e.message, CREATE)
          assert.match(e.detail, /invalid allow_list entry/)
        }
      })

      test('only a bare IP is kept as the address', async (t) => {
        const { ops } = open(t)
        for (const [given, stored] of [
          ['203.0.113.7', '203.0.113.7'],
          ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
          ['::ffff:192.0.2.1', '192.0.2.1'],
          ['203.0.113.7:443', '0.0.0.0'],
          ['', '0.0.0.0'],
          ['fe80::1%eth0', '0.0.0.0'],
          ['not an address', '0.0.0.0'],
        ]) {
          const { key } = await ops.createToken('jane', { remoteAddr: given })
          assert.equal(key.ipAddress, stored, given)
        }
        assert.equal((await ops.createToken('jane')).key.ipAddress, '0.0.0.0')
      })

      test('a session lasts the session duration, has no name and is not listed', async (t) => {
        const { ops } = open(t, new tw.Settings({ sessionDuration: '2h' }))
        const { token, key } = await ops.createSession('jane', undefined, '192.0.2.1')
        assert.match(token, TOKEN_RE)
        assert.equal(key.loginType, 'password')
        assert.equal(key.expiresAtMicros - key.createdAtMicros, 2n * HOUR_US)
        assert.equal(key.lifetimeSeconds, 7200)
        assert.equal(key.tokenName, '')
        assert.equal(key.ipAddress, '192.0.2.1')
        assert.deepEqual(key.scopes, ['coder:all'])
        assert.equal((await ops.authenticate(token)).key.id, key.id)
        assert.deepEqual(await ops.listTokens('jane'), [])
      })

      test('a session takes any login type but token', async (t) => {
        const { ops } = open(t)
        for (const loginType of ['password', 'github', 'oidc', 'none', 'oauth2_provider_app']) {
          const { token, key } = await ops.createSession({ id: 'jane' }, loginType)
          assert.equal(key.loginType, loginType)
          assert.equal(key.expiresAtMicros - key.createdAtMicros, 24n * HOUR_US)
          assert.equal((await ops.authenticate(token)).key.loginType, loginType)
        }
        const e = await caught(() => ops.createSession('jane', 'token'))
        assert.equal(e.code, 'TOKENWARD_INVALID_ARGUMENT')
        assert.equal(e.status, 400)
        const magic = await caught(() => ops.createSession('jane', 'magic'))
        assert.equal(magic.code, 'TOKENWARD_INVALID_LOGIN_TYPE')
        assert.equal(magic.detail, 'unknown login type "magic"')
      })

      test('authenticate records the first use, then writes nothing within the hour', async (t) => {
        const { a, ops } = open(t)
        const { token, key } = await ops.createToken('jane', { tokenName: 'ci', lifetime: '1h' })
        const before = nowUs() - 1000000n
        const first = await ops.authenticate(token, '203.0.113.7')
        const after = nowUs() + 1000000n
        const update = first.update
        assert.ok(update, 'the first use writes an update')
        assert.equal(update.id, key.id)
        assert.ok(before <= update.lastUsedMicros && update.lastUsedMicros <= after)
        assertDateMatchesMicros('lastUsed', update.lastUsed, update.lastUsedMicros)
        assert.equal(update.ipAddress, '203.0.113.7')
        assert.equal(update.expiresAtMicros, key.expiresAtMicros) // a token does not slide
        assert.equal(update.previousExpiresAtMicros, key.expiresAtMicros)
        // The key returned is the row as stored after the refresh.
        assert.equal(first.key.id, key.id)
        assert.equal(first.key.lastUsedMicros, update.lastUsedMicros)
        assert.equal(first.key.ipAddress, '203.0.113.7')
        assert.equal(first.key.expiresAtMicros, key.expiresAtMicros)
        assert.equal(first.key.updatedAtMicros, key.updatedAtMicros)
        assertSameKey(a.getKeySync('jane', key.id), first.key)
        // Used a moment ago: nothing to write, and the key is as stored.
        const again = await ops.authenticate(token, '198.51.100.1')
        assert.ok(again.update == null, 'nothing to write')
        assertSameKey(again.key, first.key)
      })

      test('authenticate rejects each failure with Coder\'s 401 and leaves the key', async (t) => {
        const { a, ops } = open(t)
        const { token, key } = await ops.createToken('jane', { tokenName: 'ci' })
        const secret = split(token)[1]
        const cases = [
          ['', 'missing', MISSING_DETAIL],
          ['test-wow-hello', 'malformed', 'Invalid API key format: incorrect amount of API key parts, expected 2 got 3'],
          ['test-wow', 'malformed', 'Invalid API key format: invalid API key ID length, expected 10 got 4'],
          ['testtestid-wow', 'malformed', 'Invalid API key format: invalid API key secret length, expected 22 got 3'],
          [`${token}x`, 'malformed', 'Invalid API key format: invalid API key secret length, expected 22 got 23'],
          [`0123456789-${'a'.repeat(22)}`, 'unknown_key', 'API key is invalid.'],
          [`${key.id}-${'a'.repeat(22)}`, 'invalid_secret', 'API key secret is invalid.'],
        ]
        for (const [presented, name, detail] of cases) {
          const e = await caught(() => ops.authenticate(presented))
          checkRejection(e, name, detail)
          for (const text of [e.message, e.detail, e.body, e.stack]) {
            assert.ok(!text.includes(secret), 'a rejection shows the secret')
          }
        }
        assertSameKey(a.getKeySync('jane', key.id), key)
      })

      test('tokenConfig is the target\'s maximum: member or Owner', (t) => {
        const { a } = open(t)
        assert.equal(a.tokenConfig('jane'), 876600 * HOUR_MS)
        assert.equal(a.tokenConfig({ id: 'jane' }), 876600 * HOUR_MS)
        assert.equal(a.tokenConfig({ id: 'jane', roles: ['member'] }), 876600 * HOUR_MS)
        assert.equal(a.tokenConfig(OWNER), 168 * HOUR_MS)
        const { a: b } = open(t, new tw.Settings({ maxTokenLifetime: '720h', maxAdminTokenLifetime: '1y' }))
        assert.equal(b.tokenConfig('jane'), 720 * HOUR_MS)
        assert.equal(b.tokenConfig(OWNER), 8760 * HOUR_MS)
      })

      test('listing shows own tokens, others only to an Owner, oldest first', async (t) => {
        const { ops } = open(t)
        const j1 = (await ops.createToken('jane', { tokenName: 'j1' })).key
        const b1 = (await ops.createToken('bob', { tokenName: 'b1' })).key
        await ops.createToken('jane', { tokenName: 'j2' })
        await ops.createSession('jane')
        const names = (keys) => keys.map((k) => `${k.userId}/${k.tokenName}`)
        const mine = ['jane/j1', 'jane/j2']
        assert.deepEqual(names(await ops.listTokens('jane')), mine)
        assert.deepEqual(names(await ops.listTokens('jane', { userId: 'jane' })), mine)
        assert.deepEqual(await ops.listTokens('jane', { userId: 'bob' }), [])
        assert.deepEqual(names(await ops.listTokens('jane', { all: true })), mine)
        assert.deepEqual(names(await ops.listTokens(OWNER, { userId: 'bob' })), ['bob/b1'])
        assert.deepEqual(await ops.listTokens(OWNER), [])
        assert.deepEqual(names(await ops.listTokens(OWNER, { all: true })), ['jane/j1', 'bob/b1', 'jane/j2'])
        const listed = await ops.listTokens('jane')
        assert.ok(listed[0] instanceof tw.ApiKey)
        assertSameKey(listed[0], j1)

        await ops.expire('jane', j1.id)
        assert.deepEqual(names(await ops.listTokens('jane')), ['jane/j2'])
        assert.deepEqual(names(await ops.listTokens('jane', { includeExpired: true })), mine)
        assert.deepEqual(names(await ops.listTokens(OWNER, { all: true })), ['bob/b1', 'jane/j2'])
        assert.equal((await ops.listTokens(OWNER, { all: true, includeExpired: true })).length, 3)
        assert.ok((await ops.listTokens(OWNER, { all: true })).some((k) => k.id === b1.id))
      })

      test('getKey shows a key to its owner and to an Owner only', async (t) => {
        const { ops } = open(t)
        const { key } = await ops.createToken('jane', { tokenName: 'ci' })
        const { key: session } = await ops.createSession('jane')
        assertSameKey(await ops.getKey('jane', key.id), key)
        assertSameKey(await ops.getKey(OWNER, key.id), key)
        assertSameKey(await ops.getKey('jane', session.id), session)
        for (const [actor, id] of [['bob', key.id], ['jane', '0123456789']]) {
          const e = await caught(() => ops.getKey(actor, id))
          assert.equal(e.code, 'TOKENWARD_NOT_FOUND')
          assert.equal(e.status, 404)
          assert.equal(e.message, NOT_FOUND)
          assert.deepEqual(checkBody(e), { message: NOT_FOUND })
          assert.equal(e.wwwAuthenticate, null)
        }
      })

      test('findToken takes a name, a key id or the whole token', async (t) => {
        const { ops } = open(t)
        const { token, key } = await ops.createToken('jane', { tokenName: 'deploy' })
        for (const typed of ['deploy', key.id, token]) {
          assert.equal((await ops.findToken('jane', 'jane', typed)).id, key.id, typed)
        }
        assert.equal((await ops.findToken(OWNER, 'jane', 'deploy')).id, key.id)
        for (const [actor, typed] of [['jane', 'nothing'], ['bob', key.id], ['bob', token], ['jane', '']]) {
          const e = await caught(() => ops.findToken(actor, actor, typed))
          assert.equal(e.code, 'TOKENWARD_NOT_FOUND', `${actor} ${typed}`)
        }
      })

      test('an expired key answers TOKENWARD_EXPIRED until deleted, then TOKENWARD_UNKNOWN_KEY', async (t) => {
        const { ops } = open(t)
        const { token, key } = await ops.createToken('jane', { tokenName: 'ci' })
        const before = nowUs() - 1000000n
        assert.equal(await ops.expire('jane', key.id), undefined)
        const after = nowUs() + 1000000n
        const stored = await ops.getKey('jane', key.id)
        assert.ok(before <= stored.expiresAtMicros && stored.expiresAtMicros <= after)
        const e = await caught(() => ops.authenticate(token))
        checkRejection(e, 'expired', expiredDetail(stored.expiresAtMicros), CHALLENGE_EXPIRED)
        // Expiring again changes nothing (§4.6).
        await ops.expire('jane', key.id)
        assert.equal((await ops.getKey('jane', key.id)).expiresAtMicros, stored.expiresAtMicros)
        assert.equal(await ops.delete('jane', key.id), undefined)
        checkRejection(await caught(() => ops.authenticate(token)), 'unknown_key', 'API key is invalid.')
        for (const act of [ops.delete, ops.expire]) {
          assert.equal((await caught(() => act('jane', key.id))).code, 'TOKENWARD_NOT_FOUND')
        }
        assert.equal((await caught(() => ops.delete('jane', '0123456789'))).code, 'TOKENWARD_NOT_FOUND')
      })

      test("a member cannot expire or delete another's key, an Owner can", async (t) => {
        const { ops } = open(t)
        const { token, key } = await ops.createToken('jane', { tokenName: 'ci' })
        for (const act of [ops.expire, ops.delete]) {
          assert.equal((await caught(() => act('bob', key.id))).code, 'TOKENWARD_NOT_FOUND')
        }
        await ops.authenticate(token) // untouched
        await ops.expire(OWNER, key.id)
        assert.equal((await caught(() => ops.authenticate(token))).code, 'TOKENWARD_EXPIRED')
        await ops.delete(OWNER, key.id)
        assert.equal((await caught(() => ops.getKey(OWNER, key.id))).code, 'TOKENWARD_NOT_FOUND')
      })

      test("deleting a user's keys logs out only them and counts the keys", async (t) => {
        const { ops } = open(t)
        const jane = [
          (await ops.createToken('jane')).token,
          (await ops.createSession('jane')).token,
          (await ops.createSession('jane', 'github')).token,
        ]
        const bobs = (await ops.createToken('bob')).token
        assert.equal(await ops.deleteUserKeys('jane'), 3)
        for (const token of jane) {
          assert.equal((await caught(() => ops.authenticate(token))).code, 'TOKENWARD_UNKNOWN_KEY')
        }
        assert.equal((await ops.authenticate(bobs)).key.userId, 'bob')
        assert.equal(await ops.deleteUserKeys('jane'), 0)
        assert.equal(await ops.deleteUserKeys('nobody'), 0)
      })

      test('purgeExpired removes keys expired longer than the retention', async (t) => {
        const { a, ops } = open(t, new tw.Settings({ apiKeysRetention: '1ms' }))
        const old = await ops.createToken('jane', { tokenName: 'old' })
        const live = await ops.createToken('jane', { tokenName: 'live' })
        await ops.expire('jane', old.key.id)
        const expiredAt = (await ops.getKey('jane', old.key.id)).expiresAt.getTime()
        // Let the store's clock pass the retention (a liveness bound, not a timing check).
        const deadline = Date.now() + 30000
        while (a.now().getTime() <= expiredAt + 2) {
          assert.ok(Date.now() < deadline, 'the clock did not move')
          await sleep(5)
        }
        // Until the purge, an expired key reads "expired" (§7.7).
        assert.equal((await caught(() => ops.authenticate(old.token))).code, 'TOKENWARD_EXPIRED')
        assert.equal(await ops.purgeExpired(), 1)
        assert.equal((await caught(() => ops.authenticate(old.token))).code, 'TOKENWARD_UNKNOWN_KEY')
        assert.equal((await ops.authenticate(live.token)).key.id, live.key.id)
        assert.equal(await ops.purgeExpired(), 0)
      })

      test('purgeExpired keeps keys within the retention, and all with a zero retention', async (t) => {
        for (const settings of [new tw.Settings(), new tw.Settings({ apiKeysRetention: '0' })]) {
          const { ops } = open(t, settings)
          const { token, key } = await ops.createToken('jane')
          await ops.expire('jane', key.id)
          assert.equal(await ops.purgeExpired(), 0)
          assert.equal((await caught(() => ops.authenticate(token))).code, 'TOKENWARD_EXPIRED')
        }
      })

      test('only an Owner mints for another user: a member gets TOKENWARD_FORBIDDEN', async (t) => {
        const { ops } = open(t)
        const e = await caught(() => ops.createToken('bob', { target: 'jane', tokenName: 'x' }))
        assert.equal(e.code, 'TOKENWARD_FORBIDDEN')
        assert.equal(e.status, 403)
        assert.equal(e.message, 'Forbidden.')
        assert.equal(e.wwwAuthenticate, null)
        checkBody(e)
        assert.deepEqual(await ops.listTokens(OWNER, { all: true }), [])
        const { token, key } = await ops.createToken(OWNER, { target: { id: 'jane' }, tokenName: 'x' })
        assert.equal(key.userId, 'jane')
        assert.equal((await ops.authenticate(token)).key.userId, 'jane')
        // The target itself may, given as the actor or as the target.
        await ops.createToken('jane', { target: 'jane', tokenName: 'y' })
      })

      test('a duplicate name is TOKENWARD_CONFLICT per user among kept rows', async (t) => {
        const { ops } = open(t)
        const { key } = await ops.createToken('jane', { tokenName: 'ci' })
        const e = await caught(() => ops.createToken('jane', { tokenName: 'ci' }))
        assert.equal(e.code, 'TOKENWARD_CONFLICT')
        assert.equal(e.status, 409)
        assert.equal(e.message, 'A token with name "ci" already exists.')
        assert.equal(e.wwwAuthenticate, null)
        assert.deepEqual(checkBody(e), {
          message: 'A token with name "ci" already exists.',
          validations: [{ field: 'name', detail: 'This value is already in use and should be unique.' }],
        })
        await ops.createToken('bob', { tokenName: 'ci' }) // another user's name space
        await ops.expire('jane', key.id)
        // An expired row still holds its name.
        assert.equal((await caught(() => ops.createToken('jane', { tokenName: 'ci' }))).code, 'TOKENWARD_CONFLICT')
        await ops.delete('jane', key.id)
        await ops.createToken('jane', { tokenName: 'ci' })
      })

      test('a closed authority throws TOKENWARD_STORE_IO everywhere; closing twice is nothing', async (t) => {
        const { a, ops } = open(t)
        const { token, key } = await ops.createToken('jane', { tokenName: 'ci' })
        a.close()
        const calls = [
          () => ops.authenticate(token),
          () => ops.createToken('jane'),
          () => ops.createSession('jane'),
          () => ops.listTokens('jane'),
          () => ops.getKey('jane', key.id),
          () => ops.findToken('jane', 'jane', 'ci'),
          () => ops.expire('jane', key.id),
          () => ops.delete('jane', key.id),
          () => ops.deleteUserKeys('jane'),
          () => ops.purgeExpired(),
          () => a.tokenConfig('jane'),
          () => a.settings,
          () => a.mayBlock,
          () => a.now(),
        ]
        for (const call of calls) {
          const e = await caught(call)
          assert.equal(e.code, 'TOKENWARD_STORE_IO', String(call))
          assert.equal(e.status, 500)
          // Coder's internal message; an insert's is "Failed to create API key." (§4.2 step 8)
          assert.ok([INTERNAL, CREATE].includes(e.message), e.message)
          assert.ok(!e.detail.includes(split(token)[1]))
        }
        assert.equal(a.close(), undefined)
      })

      test('the authority reports its settings, its clock and whether it may block', (t) => {
        const settings = new tw.Settings({ sessionDuration: '3h', accessUrl: 'https://c.example.com' })
        const { a } = open(t, settings)
        assert.ok(a.settings instanceof tw.Settings)
        assert.deepEqual(a.settings.toJSON(), settings.toJSON())
        assert.equal(a.settings.sessionDuration, 3 * HOUR_MS)
        const before = Date.now() - 1000
        const now = a.now()
        assert.ok(now instanceof Date)
        assert.ok(before <= now.getTime() && now.getTime() <= Date.now() + 1000)
        assert.equal(a.mayBlock, store === 'sqlite')
        const { a: plain } = open(t)
        assert.deepEqual(plain.settings.toJSON(), new tw.Settings().toJSON())
      })
    })
  }
}

// ---------------------------------------------------------------------------------------------
// Stores.

test('a SQLite file keeps every key across reopening, by path or sqlite: URL', async () => {
  const file = sqlitePath()
  const first = tw.Authority.open(file)
  const { token, key } = await first.createToken('jane', { tokenName: 'ci', lifetime: '48h' })
  const session = first.createSessionSync('jane', 'github', '192.0.2.1').token
  first.authenticateSync(token, '203.0.113.7')
  const gone = first.createTokenSync('jane', { tokenName: 'gone' })
  await first.delete('jane', gone.key.id)
  first.close()
  for (const url of [file, `sqlite:${file}`]) {
    const again = tw.Authority.open(url)
    try {
      const stored = await again.getKey('jane', key.id)
      assert.equal(stored.tokenName, 'ci')
      assert.equal(stored.expiresAtMicros, key.expiresAtMicros)
      assert.equal(stored.ipAddress, '203.0.113.7')
      assert.ok(stored.lastUsedMicros > 0n)
      assert.equal((await again.authenticate(token)).key.id, key.id)
      assert.equal(again.authenticateSync(session).key.loginType, 'github')
      assert.deepEqual((await again.listTokens('jane')).map((k) => k.tokenName), ['ci'])
      assert.equal((await caught(() => again.authenticate(gone.token))).code, 'TOKENWARD_UNKNOWN_KEY')
      assert.equal((await caught(() => again.createToken('jane', { tokenName: 'ci' }))).code, 'TOKENWARD_CONFLICT')
    } finally {
      again.close()
    }
  }
})

test('a :memory: store is gone with its authority', async () => {
  const first = tw.Authority.open(':memory:')
  const { token } = first.createTokenSync('jane')
  first.close()
  const second = tw.Authority.open(':memory:')
  try {
    assert.equal((await caught(() => second.authenticate(token))).code, 'TOKENWARD_UNKNOWN_KEY')
  } finally {
    second.close()
  }
})

test('a bad store URL is TOKENWARD_INVALID_ARGUMENT; a missing directory TOKENWARD_STORE_IO', () => {
  for (const url of ['', 'sqlite:', 'mysql://db/keys']) {
    const e = caughtSync(() => tw.Authority.open(url))
    assert.equal(e.code, 'TOKENWARD_INVALID_ARGUMENT', url)
    assert.equal(e.status, 400)
  }
  const dir = path.dirname(sqlitePath())
  const e = caughtSync(() => tw.Authority.open(path.join(dir, 'no', 'such', 'keys.db')))
  assert.equal(e.code, 'TOKENWARD_STORE_IO')
  assert.equal(e.status, 500)
  assert.ok(!e.body.includes(dir), 'no HTTP body names a file')
})

test('authenticateRequestSync finds the token where Coder looks and checks it, in one call', () => {
  const a = tw.Authority.open(':memory:')
  try {
    const [first, second] = ['jane', 'joe'].map((user) => a.createTokenSync(user).token)
    const noise = ['Host', '127.0.0.1', 'User-Agent', 'test', 'X-Coder-Session-Token', second]
    const userOf = (raw, query = '') => a.authenticateRequestSync([...noise, ...raw], query, '203.0.113.7').key.userId
    // Each source, alone, in any case of the header name.
    assert.equal(userOf(['cookie', `a=b; coder_session_token=${first}`]), 'jane')
    assert.equal(userOf([], `coder_session_token=${first}`), 'jane')
    assert.equal(userOf(['CODER-SESSION-TOKEN', first]), 'jane')
    assert.equal(userOf(['Authorization', `Bearer ${first}`]), 'jane')
    assert.equal(userOf([], `x=1&access_token=${first}`), 'jane')
    // Coder's precedence: cookie, query, header, bearer, access_token; the first header counts.
    assert.equal(userOf(['Coder-Session-Token', second, 'Cookie', `coder_session_token=${first}`]), 'jane')
    assert.equal(userOf(['Coder-Session-Token', second], `coder_session_token=${first}`), 'jane')
    assert.equal(userOf(['Authorization', `Bearer ${second}`, 'Coder-Session-Token', first]), 'jane')
    assert.equal(userOf(['Coder-Session-Token', first, 'Coder-Session-Token', second]), 'jane')
    // The answer is authenticateSync's, the shape included.
    const one = a.authenticateRequestSync(['Coder-Session-Token', first], '', '')
    assert.deepEqual(Object.keys(one), ['key', 'update'])
    assert.equal(one.key, a.authenticateSync(first).key)
    // No token (an unread header only, an empty bearer): Coder's 401 for a missing token.
    for (const raw of [noise, [...noise, 'Authorization', 'Bearer ']]) {
      checkRejection(caughtSync(() => a.authenticateRequestSync(raw, '', '')), 'MISSING', MISSING_DETAIL)
    }
    // Not headers: a thrown Error with napi's code for a value it cannot convert.
    for (const bad of [['Coder-Session-Token'], [1, 2], 'Coder-Session-Token', null]) {
      const e = caughtSync(() => a.authenticateRequestSync(bad, '', ''))
      assert.ok(e instanceof Error && /^[A-Z][A-Za-z]+$/.test(e.code), `${bad}: ${e.code}`)
    }
  } finally {
    a.close()
  }
  assert.equal(caughtSync(() => a.authenticateRequestSync([], '', '')).code, 'TOKENWARD_STORE_IO')
})

// ---------------------------------------------------------------------------------------------
// Documented shapes that are not lifecycle.

test('no update is null, as documented, from authenticate and verifyRecord', async () => {
  const a = tw.Authority.open(':memory:')
  try {
    const { token } = a.createTokenSync('jane')
    a.authenticateSync(token)
    const sync = a.authenticateSync(token)
    const promised = await a.authenticate(token)
    const verified = tw.verifyRecord(token, sync.key)
    for (const [what, result] of [['authenticateSync', sync], ['authenticate', promised], ['verifyRecord', verified]]) {
      assert.ok('update' in result, `${what}: no update property`)
      assert.equal(result.update, null, `${what}: update is ${result.update}`)
    }
  } finally {
    a.close()
  }
})

test('generate makes a 10-character id and a 22-character secret of the 62 symbols', () => {
  const seen = new Set()
  for (let i = 0; i < 200; i++) {
    const token = tw.generate()
    assert.match(token, TOKEN_RE)
    assert.deepEqual({ ...tw.parse(token, { strict: true }) }, { id: token.slice(0, 10), secret: token.slice(11) })
    seen.add(token)
  }
  assert.equal(seen.size, 200)
})

// ---------------------------------------------------------------------------------------------
// ApiKey.

const RECORD = {
  id: 'AbCdEfGhIj',
  hashed_secret: sha256('s3cretS3cretS3cretS3cr').toString('hex'),
  user_id: 'jane',
  last_used: '2026-01-02T15:04:05.123456Z',
  expires_at: '2026-01-09T15:04:05.000001Z',
  created_at: '1969-12-31T23:59:59.999999Z',
  updated_at: '0001-01-01T00:00:00Z',
  login_type: 'github',
  lifetime_seconds: 86400,
  ip_address: '192.0.2.10',
  token_name: 'ci',
  scopes: ['workspace:read', 'coder:application_connect'],
  allow_list: [{ type: 'workspace', id: WORKSPACE }],
}

test('ApiKey.fromJSON reads every column, its times exact to the microsecond', () => {
  const key = tw.ApiKey.fromJSON(RECORD)
  assert.ok(key instanceof tw.ApiKey)
  assert.equal(key.id, RECORD.id)
  assert.deepEqual(key.hashedSecret, sha256('s3cretS3cretS3cretS3cr'))
  assert.equal(key.userId, 'jane')
  assert.equal(key.loginType, 'github')
  assert.equal(key.lifetimeSeconds, 86400)
  assert.equal(key.ipAddress, '192.0.2.10')
  assert.equal(key.tokenName, 'ci')
  assert.deepEqual(key.scopes, RECORD.scopes)
  assert.equal(key.scope, 'application_connect')
  // µs by hand: 2026-01-02T15:04:05Z is 1767366245 s after the epoch.
  assert.equal(key.lastUsedMicros, 1767366245123456n)
  assert.equal(key.lastUsed.getTime(), 1767366245123)
  assert.equal(key.expiresAtMicros, (1767366245n + 7n * 86400n) * 1000000n + 1n)
  // Before the epoch: the Date is the millisecond the instant falls in.
  assert.equal(key.createdAtMicros, -1n)
  assert.equal(key.createdAt.getTime(), -1)
  // Go's zero time.
  assert.equal(key.updatedAtMicros, -62135596800000000n)
  assert.equal(key.updatedAt.toISOString(), '0001-01-01T00:00:00.000Z')
  for (const f of ['lastUsed', 'expiresAt', 'createdAt', 'updatedAt']) {
    assertDateMatchesMicros(f, key[f], key[`${f}Micros`])
    assert.equal(key[`${f}Micros`], tsMicros(RECORD[f.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)]))
  }
})

test('ApiKey.fromJSON(toStorageJSON()) gives the same record, from the object or its text', async () => {
  const a = tw.Authority.open(':memory:')
  try {
    const { key: created } = await a.createToken('jane', { tokenName: 'ci', remoteAddr: '203.0.113.7', scopes: ['workspace:ssh'] })
    for (const key of [created, tw.ApiKey.fromJSON(RECORD)]) {
      const storage = key.toStorageJSON()
      assert.equal(storage.hashed_secret, key.hashedSecret.toString('hex'))
      for (const form of [storage, JSON.stringify(storage)]) {
        const back = tw.ApiKey.fromJSON(form)
        assert.deepEqual(back.toStorageJSON(), storage)
        for (const getter of ['id', 'userId', 'loginType', 'lifetimeSeconds', 'ipAddress', 'tokenName', 'scope',
          'lastUsedMicros', 'expiresAtMicros', 'createdAtMicros', 'updatedAtMicros']) {
          assert.equal(back[getter], key[getter], getter)
        }
        assert.deepEqual(back.hashedSecret, key.hashedSecret)
        assert.deepEqual(back.scopes, key.scopes)
      }
    }
    assert.deepEqual(tw.ApiKey.fromJSON(RECORD).toStorageJSON(), {
      ...RECORD,
      // Times come back in the vectors' form: trailing zeros of the fraction dropped.
    })
  } finally {
    a.close()
  }
})

test("toJSON is the public view with Coder's field names: no hash, no address", () => {
  const key = tw.ApiKey.fromJSON(RECORD)
  const pub = key.toJSON()
  assert.deepEqual(Object.keys(pub).sort(), [
    'allow_list',
    'created_at',
    'expires_at',
    'id',
    'last_used',
    'lifetime_seconds',
    'login_type',
    'scope',
    'scopes',
    'token_name',
    'updated_at',
    'user_id',
  ])
  assert.deepEqual(pub, {
    id: RECORD.id,
    user_id: 'jane',
    last_used: RECORD.last_used,
    expires_at: RECORD.expires_at,
    created_at: RECORD.created_at,
    updated_at: RECORD.updated_at,
    login_type: 'github',
    scope: 'application_connect',
    scopes: RECORD.scopes,
    token_name: 'ci',
    lifetime_seconds: 86400,
    allow_list: RECORD.allow_list,
  })
  const text = JSON.stringify({ key })
  assert.deepEqual(JSON.parse(text).key, pub)
  assert.ok(!text.includes(RECORD.hashed_secret))
  assert.ok(!text.includes('192.0.2.10'))
})

// ---------------------------------------------------------------------------------------------
// Settings.

test("default settings are Coder's, durations in ms", () => {
  const s = new tw.Settings()
  assert.equal(s.sessionDuration, 24 * HOUR_MS)
  assert.equal(s.disableSessionExpiryRefresh, false)
  assert.equal(s.defaultTokenLifetime, 168 * HOUR_MS)
  assert.equal(s.maxTokenLifetime, 876600 * HOUR_MS)
  assert.equal(s.maxAdminTokenLifetime, 168 * HOUR_MS)
  assert.equal(s.apiKeysRetention, 7 * DAY_MS)
  assert.equal(s.accessUrl, null)
  assert.deepEqual(s.toJSON(), {
    sessionDuration: '24h0m0s',
    disableSessionExpiryRefresh: false,
    defaultTokenLifetime: '168h0m0s',
    maxTokenLifetime: '876600h0m0s',
    maxAdminTokenLifetime: '168h0m0s',
    apiKeysRetention: '168h0m0s',
    accessUrl: null,
  })
  assert.deepEqual(new tw.Settings({}).toJSON(), s.toJSON())
})

test("settings take ms, Go strings and Coder's d and y; with() makes a changed copy", () => {
  const s = new tw.Settings({
    sessionDuration: 2 * HOUR_MS,
    defaultTokenLifetime: '12h',
    maxTokenLifetime: '30d',
    maxAdminTokenLifetime: '1y',
    apiKeysRetention: '1h30m',
    disableSessionExpiryRefresh: true,
    accessUrl: 'https://coder.example.com',
  })
  assert.equal(s.sessionDuration, 2 * HOUR_MS)
  assert.equal(s.defaultTokenLifetime, 12 * HOUR_MS)
  assert.equal(s.maxTokenLifetime, 30 * DAY_MS)
  assert.equal(s.maxAdminTokenLifetime, 8760 * HOUR_MS)
  assert.equal(s.apiKeysRetention, 90 * 60000)
  assert.equal(s.disableSessionExpiryRefresh, true)
  assert.equal(s.accessUrl, 'https://coder.example.com')
  const changed = s.with({ sessionDuration: '1h', accessUrl: 'http://localhost:3000' })
  assert.equal(changed.sessionDuration, HOUR_MS)
  assert.equal(changed.accessUrl, 'http://localhost:3000')
  assert.equal(changed.maxTokenLifetime, 30 * DAY_MS)
  assert.equal(s.sessionDuration, 2 * HOUR_MS) // unchanged
  assert.equal(changed.with({ accessUrl: null }).accessUrl, null)
  // The default lifetime may exceed the maximum (§4.7, as in Coder).
  const wide = new tw.Settings({ defaultTokenLifetime: '48h', maxTokenLifetime: '24h' })
  assert.ok(wide.defaultTokenLifetime > wide.maxTokenLifetime)
})

test('no lifetime takes the default even above the maximum', async () => {
  const a = tw.Authority.open(':memory:', new tw.Settings({ defaultTokenLifetime: '48h', maxTokenLifetime: '24h' }))
  try {
    const { key } = await a.createToken('jane')
    assert.equal(key.expiresAtMicros - key.createdAtMicros, 48n * HOUR_US)
  } finally {
    a.close()
  }
})

const ENV_NAMES = [
  'SESSION_DURATION',
  'DISABLE_SESSION_EXPIRY_REFRESH',
  'DEFAULT_TOKEN_LIFETIME',
  'MAX_TOKEN_LIFETIME',
  'MAX_ADMIN_TOKEN_LIFETIME',
  'API_KEYS_RETENTION',
  'ACCESS_URL',
]

/** Settings.fromEnv() in a child process with exactly `vars` of the settings' variables. */
function fromEnvIn(vars) {
  const env = { ...process.env }
  for (const name of ENV_NAMES) {
    delete env[`CODER_${name}`]
    delete env[`TOKENWARD_${name}`]
  }
  Object.assign(env, vars)
  const script = `
    const tw = require(${JSON.stringify(PACKAGE)})
    let out
    try { const s = tw.Settings.fromEnv(); out = { settings: s.toJSON(), ms: s.sessionDuration } }
    catch (e) { out = { error: { code: e.code, message: e.message, detail: e.detail } } }
    process.stdout.write(JSON.stringify(out))`
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { env, encoding: 'utf8' }))
}

test("Settings.fromEnv reads Coder's CODER_* variables", () => {
  assert.deepEqual(fromEnvIn({}).settings, new tw.Settings().toJSON())
  const got = fromEnvIn({
    CODER_SESSION_DURATION: '2h',
    CODER_DISABLE_SESSION_EXPIRY_REFRESH: 'true',
    CODER_DEFAULT_TOKEN_LIFETIME: '12h',
    CODER_MAX_TOKEN_LIFETIME: '720h',
    CODER_MAX_ADMIN_TOKEN_LIFETIME: '336h',
    CODER_API_KEYS_RETENTION: '0',
    CODER_ACCESS_URL: 'https://coder.example.com',
  })
  assert.deepEqual(got.settings, {
    sessionDuration: '2h0m0s',
    disableSessionExpiryRefresh: true,
    defaultTokenLifetime: '12h0m0s',
    maxTokenLifetime: '720h0m0s',
    maxAdminTokenLifetime: '336h0m0s',
    apiKeysRetention: '0s',
    accessUrl: 'https://coder.example.com',
  })
  assert.equal(got.ms, 2 * HOUR_MS)
})

test('TOKENWARD_* variables win over CODER_* unless empty; a bad one is named', () => {
  const got = fromEnvIn({
    CODER_SESSION_DURATION: '2h',
    TOKENWARD_SESSION_DURATION: '3h',
    CODER_MAX_TOKEN_LIFETIME: '720h',
    TOKENWARD_MAX_TOKEN_LIFETIME: '',
    TOKENWARD_API_KEYS_RETENTION: '1d',
  }).settings
  assert.equal(got.sessionDuration, '3h0m0s')
  assert.equal(got.maxTokenLifetime, '720h0m0s')
  assert.equal(got.apiKeysRetention, '24h0m0s')
  for (const variable of ['CODER_SESSION_DURATION', 'TOKENWARD_SESSION_DURATION']) {
    const { error } = fromEnvIn({ [variable]: 'soon' })
    assert.equal(error.code, 'TOKENWARD_INVALID_SETTINGS')
    assert.ok(error.detail.includes(variable), error.detail)
  }
  // And in this process: the environment is read when fromEnv is called.
  const saved = process.env.TOKENWARD_SESSION_DURATION
  try {
    process.env.TOKENWARD_SESSION_DURATION = '5h'
    assert.equal(tw.Settings.fromEnv().sessionDuration, 5 * HOUR_MS)
  } finally {
    if (saved === undefined) delete process.env.TOKENWARD_SESSION_DURATION
    else process.env.TOKENWARD_SESSION_DURATION = saved
  }
})

// ---------------------------------------------------------------------------------------------
// Entry points.

const API = [
  'ApiKey',
  'Authority',
  'Settings',
  'codes',
  'extractToken',
  'formatDuration',
  'generate',
  'hashSecret',
  'parse',
  'parseDuration',
  'parseDurationNs',
  'verifyRecord',
]

test('ESM import() of index.mjs gives the functions CommonJS require() gives', async () => {
  const esm = await import(pathToFileURL(path.join(PACKAGE, 'index.mjs')).href)
  for (const name of API) {
    assert.equal(typeof tw[name], 'function', `require: ${name}`)
    assert.equal(esm[name], tw[name], `import: ${name}`)
  }
  assert.equal(esm.default, tw)
  // The package's own name resolves through its exports map, per condition.
  const byName = await import('tokenward')
  for (const name of API) assert.equal(byName[name], tw[name], `import('tokenward'): ${name}`)
  assert.equal(require('tokenward'), tw)
  // And an ES module runs the lifecycle.
  const script = `
    import { Authority, hashSecret } from ${JSON.stringify(pathToFileURL(path.join(PACKAGE, 'index.mjs')).href)}
    const a = Authority.open(':memory:')
    const { token, key } = await a.createToken('jane')
    const ok = (await a.authenticate(token)).key.id === key.id
    process.stdout.write(JSON.stringify({ ok, hash: hashSecret(token.slice(11)).toString('hex') === key.hashedSecret.toString('hex') }))`
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })
  assert.deepEqual(JSON.parse(out), { ok: true, hash: true })
})
