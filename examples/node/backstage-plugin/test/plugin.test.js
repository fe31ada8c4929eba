'use strict'
// The plugin in a real (test) Backstage backend: startTestBackend wires it with Backstage's
// own httpRouter (its credentials barrier, rate limiter and error middleware) behind a real
// HTTP server, which supertest calls. The keys live in a SQLite file the test mints into.

const { after, before, describe, test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const request = require('supertest')
const { mockCredentials, mockServices, startTestBackend } = require('@backstage/backend-test-utils')

const { Authority, Settings } = require('../../../../bindings/node')
const { coreServices, createBackendPlugin } = require('@backstage/backend-plugin-api')
const { coderTokensPlugin, createRouter } = require('../src')

const ACCESS_URL = 'https://coder.example.com'

/** The same routes without the auth policy: Backstage's credentials barrier runs first. */
function withoutPolicy(store) {
  return createBackendPlugin({
    pluginId: 'no-policy',
    register(env) {
      env.registerInit({
        deps: {
          httpRouter: coreServices.httpRouter,
          logger: coreServices.logger,
          lifecycle: coreServices.lifecycle,
        },
        async init({ httpRouter, logger, lifecycle }) {
          const authority = Authority.open(store)
          lifecycle.addShutdownHook(() => authority.close())
          httpRouter.use(createRouter({ authority, logger }))
        },
      })
    },
  })
}

describe('the coder-tokens plugin', () => {
  let dir
  let authority // the test's own view of the plugin's store
  let backend
  let jane
  let joe

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenward-backstage-'))
    const store = path.join(dir, 'keys.db')
    authority = Authority.open(store, new Settings({ accessUrl: ACCESS_URL }))
    jane = authority.createTokenSync('jane', { tokenName: 'backstage' })
    joe = authority.createTokenSync('joe', { tokenName: 'cli' })
    backend = await startTestBackend({
      features: [
        coderTokensPlugin,
        withoutPolicy(store),
        mockServices.rootConfig.factory({
          data: { coderTokens: { store, accessUrl: ACCESS_URL } },
        }),
      ],
    })
  })

  after(async () => {
    await backend?.stop()
    authority?.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  /** What the addon throws for `token`: the answer the plugin must send. */
  function thrown(token) {
    try {
      authority.authenticateSync(token)
    } catch (error) {
      return error
    }
    assert.fail('did not throw')
  }

  /** `response` is Coder's answer to `error`, byte for byte. */
  function assertAnswer(response, error) {
    assert.equal(response.status, error.status)
    assert.equal(response.headers['content-type'], 'application/json; charset=utf-8')
    for (const [name, value] of error.headers) {
      assert.equal(response.headers[name.toLowerCase()], value, name)
    }
    assert.equal(response.headers['www-authenticate'], error.wwwAuthenticate ?? undefined)
    assert.equal(response.headers['content-length'], String(Buffer.byteLength(error.body)))
    assert.equal(response.text, error.body)
  }

  test('GET /whoami with the Coder-Session-Token header (what the Coder plugin sends)', async () => {
    const response = await request(backend.server)
      .get('/api/coder-tokens/whoami')
      .set('Coder-Session-Token', jane.token)
    assert.equal(response.status, 200, response.text)
    assert.deepEqual(response.body, { userId: 'jane', tokenName: 'backstage', keyId: jane.key.id })
  })

  test('GET /whoami with Authorization: Bearer, past Backstage\'s own token check', async () => {
    const response = await request(backend.server)
      .get('/api/coder-tokens/whoami')
      .set('Authorization', `Bearer ${joe.token}`)
    assert.equal(response.status, 200, response.text)
    assert.deepEqual(response.body, { userId: 'joe', tokenName: 'cli', keyId: joe.key.id })
  })

  test('the session header wins over Bearer, as in Coder', async () => {
    const response = await request(backend.server)
      .get('/api/coder-tokens/whoami')
      .set('Authorization', `Bearer ${joe.token}`)
      .set('Coder-Session-Token', jane.token)
    assert.equal(response.body.userId, 'jane')
  })

  test('the refresh is written to the store', async () => {
    const key = authority.getKeySync('jane', jane.key.id)
    assert.ok(key.lastUsedMicros > jane.key.lastUsedMicros)
    assert.match(key.ipAddress, /^(127\.0\.0\.1|::1)$/)
  })

  test("no token: Coder's 401 (Backstage's barrier lets the request through)", async () => {
    const response = await request(backend.server).get('/api/coder-tokens/whoami')
    const error = thrown('')
    assert.equal(error.code, 'TOKENWARD_MISSING')
    assertAnswer(response, error)
    assert.ok(response.headers['www-authenticate'].endsWith(
      `resource_metadata="${ACCESS_URL}/.well-known/oauth-protected-resource"`,
    ))
  })

  test("a Backstage user token is read as Coder reads a Bearer token: Coder's 401", async () => {
    const header = mockCredentials.user.header()
    const response = await request(backend.server)
      .get('/api/coder-tokens/whoami')
      .set('Authorization', header)
    const error = thrown(header.replace(/^Bearer /, ''))
    assert.equal(error.code, 'TOKENWARD_MALFORMED')
    assertAnswer(response, error)
  })

  test('a wrong secret: Coder\'s 401 byte for byte', async () => {
    const bad = jane.token.slice(0, 11) + '0'.repeat(22)
    const response = await request(backend.server)
      .get('/api/coder-tokens/whoami')
      .set('Coder-Session-Token', bad)
    const error = thrown(bad)
    assert.equal(error.code, 'TOKENWARD_INVALID_SECRET')
    assertAnswer(response, error)
  })

  test('an expired token: Coder\'s 401 byte for byte', async () => {
    const { token, key } = authority.createTokenSync('jane', { tokenName: 'old' })
    authority.expireSync('jane', key.id)
    const response = await request(backend.server)
      .get('/api/coder-tokens/whoami')
      .set('Authorization', `Bearer ${token}`)
    const error = thrown(token)
    assert.equal(error.code, 'TOKENWARD_EXPIRED')
    assertAnswer(response, error)
  })

  test('/health needs no token', async () => {
    const response = await request(backend.server).get('/api/coder-tokens/health')
    assert.equal(response.status, 200)
    assert.deepEqual(response.body, { status: 'ok' })
  })

  test('without the auth policy, Backstage refuses a Bearer Coder token before tokenward sees it', async () => {
    // (The test backend's mock httpAuth lets a request with no Authorization through as a
    // default user; the real one refuses it too: "Missing credentials".)
    const response = await request(backend.server)
      .get('/api/no-policy/whoami')
      .set('Authorization', `Bearer ${jane.token}`)
    assert.equal(response.status, 401)
    assert.equal(response.body.error.name, 'AuthenticationError')
    assert.equal(response.headers['www-authenticate'], undefined)
  })
})
