'use strict'

// tokenward/express against real Express servers listening on 127.0.0.1, called with fetch
// (and node:http where a request must carry what fetch would rewrite: repeated headers, dot
// segments). Every failure is compared, byte for byte, with what the addon throws for the same
// token: the status, Content-Type, WWW-Authenticate and the JSON body.

const { describe, test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')
const express = require('express')

const { Authority, Settings } = require('..')
const { tokenward, answer, isTokenwardError } = require('../express')

const ACCESS_URL = 'https://coder.example.com'
const METADATA =
  'resource_metadata="https://coder.example.com/.well-known/oauth-protected-resource"'
// Coder's 500 (docs/compatibility.md §6, row 3b), up to the store's own error text.
const INTERNAL =
  '{"message":"An internal error occurred. Please try again or contact the system ' +
  'administrator.","detail":"Internal error fetching API key by id. '

function memory(settings = new Settings({ accessUrl: ACCESS_URL })) {
  return Authority.open(':memory:', settings)
}

/** A fresh SQLite file (removed after the test) and its authority. */
function sqlite(t, settings = new Settings({ accessUrl: ACCESS_URL })) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenward-express-'))
  const authority = Authority.open(path.join(dir, 'keys.db'), settings)
  t.after(() => {
    authority.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  return authority
}

/** What the addon throws for `token`: the answer the middleware must send. */
function thrown(authority, token) {
  try {
    authority.authenticateSync(token)
  } catch (error) {
    return error
  }
  assert.fail(`authenticateSync(${JSON.stringify(token)}) did not throw`)
}

/** An app whose routes answer the key the middleware put on the request. */
function app(authority, options) {
  const application = express()
  application.use(tokenward(authority, options))
  const whoami = (req, res) => {
    const key = req.tokenward
    res.json(key ? { id: key.id, userId: key.userId, tokenName: key.tokenName } : { key: null })
  }
  application.get('/whoami', whoami)
  application.get(['/healthz', '/healthz/live', '/healthzz', '/style.css', '/admin'], whoami)
  return application
}

/** Listens on 127.0.0.1 (an ephemeral port) until the test ends: the base URL. */
async function listen(t, handler, host = '127.0.0.1') {
  const server = http.createServer(handler)
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, resolve)
  })
  t.after(
    () =>
      new Promise((resolve) => {
        server.close(resolve)
        server.closeAllConnections()
      }),
  )
  const { port } = server.address()
  return `http://127.0.0.1:${port}`
}

// Where a token goes, for each of Coder's sources: a query pair or a header.
const SOURCES = {
  cookie: (t) => ({ headers: { Cookie: `theme=dark; coder_session_token=${t}` } }),
  query: (t) => ({ query: `coder_session_token=${t}` }),
  header: (t) => ({ headers: { 'Coder-Session-Token': t } }),
  bearer: (t) => ({ headers: { Authorization: `Bearer ${t}` } }),
  access_token: (t) => ({ query: `access_token=${t}` }),
}

/** GET `path` with each [source, token] placed where that source reads it. */
function get(base, pathname, ...placed) {
  const queries = []
  const headers = {}
  for (const [source, token] of placed) {
    const where = SOURCES[source](token)
    if (where.query) queries.push(where.query)
    Object.assign(headers, where.headers)
  }
  const query = queries.length ? `?${queries.join('&')}` : ''
  return fetch(`${base}${pathname}${query}`, { headers })
}

/** `response` (fetch's) is Coder's answer to `error`: status, headers and body, byte for byte. */
async function assertAnswer(response, error) {
  const body = Buffer.from(await response.arrayBuffer())
  assert.equal(response.status, error.status)
  assert.deepEqual(body, Buffer.from(error.body, 'utf8'))
  assert.equal(response.headers.get('content-length'), String(body.length))
  const expected = new Map(error.headers.map(([name, value]) => [name.toLowerCase(), value]))
  assert.equal(response.headers.get('content-type'), expected.get('content-type'))
  assert.equal(response.headers.get('www-authenticate'), expected.get('www-authenticate') ?? null)
  assert.equal(response.headers.get('www-authenticate'), error.wwwAuthenticate)
  return body.toString('utf8')
}

/** A request over node:http (headers as given: arrays are sent as repeated lines). */
function request(base, pathname, headers = {}, method = 'GET') {
  return new Promise((resolve, reject) => {
    // The path as given: a URL string would be parsed, its dot segments resolved.
    const { hostname, port } = new URL(base)
    const options = { hostname, port, path: pathname, method, headers, agent: false }
    const req = http.request(options, (res) => {
      const chunks = []
      res.on('data', (chunk) => chunks.push(chunk))
      res.on('end', () => resolve({ res, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

/** An authority that records which authenticate the middleware called. */
function spy(real) {
  const calls = []
  return {
    calls,
    get mayBlock() {
      return real.mayBlock
    },
    authenticate(token, remoteAddr) {
      calls.push('authenticate')
      return real.authenticate(token, remoteAddr)
    },
    authenticateSync(token, remoteAddr) {
      calls.push('authenticateSync')
      return real.authenticateSync(token, remoteAddr)
    },
  }
}

/** A stand-in for `ServerResponse` recording what the middleware writes. */
function recorder() {
  const headers = new Map()
  return {
    statusCode: 200,
    written: [],
    body: undefined,
    setHeader(name, value) {
      headers.set(name.toLowerCase(), value)
      this.written.push([name, value])
    },
    removeHeader(name) {
      headers.delete(name.toLowerCase())
    },
    getHeader(name) {
      return headers.get(name.toLowerCase())
    },
    end(body) {
      this.body = body
    },
  }
}

describe('the token sources', () => {
  for (const source of Object.keys(SOURCES)) {
    test(`a token in ${source} reaches the handler as req.tokenward`, async (t) => {
      const authority = memory()
      const { token, key } = authority.createTokenSync('jane', { tokenName: 'ci' })
      const base = await listen(t, app(authority))
      const response = await get(base, '/whoami', [source, token])
      assert.equal(response.status, 200, await response.clone().text())
      assert.deepEqual(await response.json(), { id: key.id, userId: 'jane', tokenName: 'ci' })
    })
  }

  const ORDER = [
    ['cookie', 'query'],
    ['query', 'header'],
    ['header', 'bearer'],
    ['bearer', 'access_token'],
    ['cookie', 'access_token'],
  ]
  for (const [first, second] of ORDER) {
    test(`${first} wins over ${second}, as Coder looks`, async (t) => {
      const authority = memory()
      const jane = authority.createTokenSync('jane', { tokenName: 'ci' })
      const joe = authority.createTokenSync('joe', { tokenName: 'ci' })
      const base = await listen(t, app(authority))
      // The later source is placed first, so the winner is not a matter of order.
      const response = await get(base, '/whoami', [second, joe.token], [first, jane.token])
      assert.equal(response.status, 200)
      assert.equal((await response.json()).userId, 'jane')
    })
  }

  test('an empty Bearer ends the search before access_token', (t) => {
    // Over the wire a value's trailing white space is trimmed (by Node's parser, as by Go's),
    // so `Bearer ` arrives as `Bearer`: the middleware is called here with the raw header
    // as a server that kept it would hand it over.
    const authority = memory()
    const { token } = authority.createTokenSync('jane')
    const req = {
      method: 'GET',
      url: `/whoami?access_token=${token}`,
      rawHeaders: ['Host', 'example.com', 'Authorization', 'Bearer '],
      socket: { remoteAddress: '192.0.2.1' },
    }
    const res = recorder()
    let nexts = 0
    tokenward(authority)(req, res, () => nexts++)
    const error = thrown(authority, '')
    assert.equal(error.code, 'TOKENWARD_MISSING')
    assert.equal(nexts, 0)
    assert.equal(req.tokenward, undefined)
    assert.equal(res.statusCode, 401)
    assert.deepEqual(res.written, [
      ...error.headers,
      ['Content-Length', Buffer.byteLength(error.body)],
    ])
    assert.equal(res.body, error.body)
  })

  test('of repeated header lines only the first counts (rawHeaders keeps them apart)', async (t) => {
    const authority = memory()
    const jane = authority.createTokenSync('jane')
    const joe = authority.createTokenSync('joe')
    const base = await listen(t, app(authority))
    for (const [first, second, user] of [
      [jane.token, joe.token, 'jane'],
      [joe.token, jane.token, 'joe'],
    ]) {
      const { res, body } = await request(base, '/whoami', {
        'Coder-Session-Token': [first, second],
      })
      assert.equal(res.statusCode, 200, body.toString())
      assert.equal(JSON.parse(body).userId, user)
    }
  })

  test('a coder_session_token cookie on a second Cookie line is found', async (t) => {
    const authority = memory()
    const jane = authority.createTokenSync('jane')
    const joe = authority.createTokenSync('joe')
    const base = await listen(t, app(authority))
    const { res, body } = await request(base, '/whoami', {
      Cookie: ['theme=dark', `coder_session_token=${jane.token}`],
      Authorization: `Bearer ${joe.token}`,
    })
    assert.equal(res.statusCode, 200, body.toString())
    assert.equal(JSON.parse(body).userId, 'jane')
  })
})

describe("Coder's answers", () => {
  /** The token presented for `kind` (null: none at all), the key made ready for it. */
  function rejected(authority, kind) {
    const { token, key } = authority.createTokenSync('jane', { tokenName: 'ci' })
    switch (kind) {
      case 'missing':
        return null
      case 'malformed':
        return token + 'x'
      case 'unknown_key':
        return (key.id === 'zzzzzzzzzz' ? 'yyyyyyyyyy' : 'zzzzzzzzzz') + token.slice(10)
      case 'invalid_secret':
        return token.slice(0, 11) + '0'.repeat(22)
      case 'expired':
        authority.expireSync('jane', key.id)
        return token
    }
    throw new Error(kind)
  }

  const REJECTIONS = {
    missing: 'TOKENWARD_MISSING',
    malformed: 'TOKENWARD_MALFORMED',
    unknown_key: 'TOKENWARD_UNKNOWN_KEY',
    invalid_secret: 'TOKENWARD_INVALID_SECRET',
    expired: 'TOKENWARD_EXPIRED',
  }
  for (const [kind, code] of Object.entries(REJECTIONS)) {
    test(`${kind}: Coder's 401 byte for byte`, async (t) => {
      const authority = memory()
      const token = rejected(authority, kind)
      let reached = false
      const application = express()
      application.use(tokenward(authority))
      application.get('/whoami', (req, res) => {
        reached = true
        res.end()
      })
      const base = await listen(t, application)
      const response = await get(base, '/whoami', ...(token === null ? [] : [['cookie', token]]))
      const error = thrown(authority, token ?? '')
      assert.equal(error.code, code)
      const text = await assertAnswer(response, error)
      assert.equal(response.statusText, 'Unauthorized')
      assert.ok(response.headers.get('www-authenticate').endsWith(METADATA))
      assert.ok(text.startsWith('{"message":"You are signed out'), text)
      if (token !== null) assert.ok(!text.includes(token.slice(11, 30)), 'the secret is echoed')
      assert.equal(reached, false)
    })
  }

  test('without an access URL the challenge has no resource_metadata', async (t) => {
    const authority = memory(new Settings())
    const { token } = authority.createTokenSync('jane')
    const bad = token.slice(0, 11) + '0'.repeat(22)
    const base = await listen(t, app(authority))
    const response = await get(base, '/whoami', ['bearer', bad])
    const error = thrown(authority, bad)
    assert.equal(error.code, 'TOKENWARD_INVALID_SECRET')
    await assertAnswer(response, error)
    assert.ok(response.headers.get('www-authenticate').startsWith('Bearer realm="coder"'))
    assert.ok(!response.headers.get('www-authenticate').includes('resource_metadata'))
  })

  test('the answer on the wire: status line, each header once, Content-Length', async (t) => {
    const authority = memory()
    const base = await listen(t, app(authority))
    const { res, body } = await request(base, '/whoami', { Authorization: 'Basic abc' })
    const error = thrown(authority, '')
    assert.equal(res.statusCode, 401)
    assert.equal(res.statusMessage, 'Unauthorized')
    const lines = []
    for (let i = 0; i < res.rawHeaders.length; i += 2) {
      lines.push([res.rawHeaders[i], res.rawHeaders[i + 1]])
    }
    const named = (name) => lines.filter(([n]) => n.toLowerCase() === name.toLowerCase())
    for (const [name, value] of error.headers) {
      assert.deepEqual(named(name), [[name, value]])
    }
    assert.deepEqual(named('Content-Length'), [['Content-Length', String(body.length)]])
    assert.deepEqual(body, Buffer.from(error.body))
  })

  test('a HEAD request gets the status and headers, no body', async (t) => {
    const authority = memory()
    const base = await listen(t, app(authority))
    const { res, body } = await request(base, '/whoami', {}, 'HEAD')
    const error = thrown(authority, '')
    assert.equal(res.statusCode, 401)
    assert.equal(res.headers['www-authenticate'], error.wwwAuthenticate)
    assert.equal(res.headers['content-length'], String(Buffer.byteLength(error.body)))
    assert.equal(body.length, 0)
  })

  for (const withToken of [true, false]) {
    test(`a closed authority is Coder's 500 (${withToken ? 'a token' : 'no token'})`, async (t) => {
      const authority = memory()
      const { token } = authority.createTokenSync('jane')
      let reached = false
      const application = express()
      application.use(tokenward(authority))
      application.get('/whoami', (req, res) => {
        reached = true
        res.end()
      })
      const base = await listen(t, application)
      // Once before closing, so the middleware has read mayBlock already.
      assert.equal((await get(base, '/whoami', ['header', token])).status, 200)
      reached = false
      authority.close()
      const presented = withToken ? token : ''
      const response = await get(base, '/whoami', ...(withToken ? [['header', token]] : []))
      const error = thrown(authority, presented)
      assert.equal(error.code, 'TOKENWARD_STORE_IO')
      const text = await assertAnswer(response, error)
      assert.equal(response.status, 500)
      assert.ok(text.startsWith(INTERNAL), text)
      assert.equal(response.headers.get('www-authenticate'), null)
      assert.equal(reached, false)
    })
  }

  test('an authority closed before the first request is Coder\'s 500', async (t) => {
    const authority = sqlite(t)
    const { token } = authority.createTokenSync('jane')
    const base = await listen(t, app(authority))
    authority.close()
    const response = await get(base, '/whoami', ['bearer', token])
    const error = thrown(authority, token)
    assert.equal(error.code, 'TOKENWARD_STORE_IO')
    await assertAnswer(response, error)
  })
})

describe('the key and the refresh', () => {
  test('the handler gets the ApiKey on req.tokenward', async (t) => {
    const authority = memory()
    const { token, key } = authority.createTokenSync('jane', { tokenName: 'deploy' })
    let seen
    const application = express()
    application.use(tokenward(authority))
    application.get('/whoami', (req, res) => {
      seen = req.tokenward
      res.json(req.tokenward)
    })
    const base = await listen(t, application)
    const response = await get(base, '/whoami', ['bearer', token])
    assert.equal(response.status, 200)
    assert.equal(seen.userId, 'jane')
    assert.equal(seen.id, key.id)
    assert.equal(seen.tokenName, 'deploy')
    assert.equal(seen.loginType, 'token')
    assert.deepEqual(await response.json(), JSON.parse(JSON.stringify(seen.toJSON())))
  })

  test('a SQLite store is checked through the Promise authenticate; the refresh is written', async (t) => {
    const real = sqlite(t)
    assert.equal(real.mayBlock, true)
    const { token, key } = real.createTokenSync('jane', { tokenName: 'ci' })
    const authority = spy(real)
    const base = await listen(t, app(authority))
    const response = await get(base, '/whoami', ['header', token])
    assert.equal(response.status, 200)
    assert.equal((await response.json()).userId, 'jane')
    assert.deepEqual(authority.calls, ['authenticate'])
    const stored = real.getKeySync('jane', key.id)
    assert.equal(key.lastUsedMicros, 0n) // a new key's last use is the epoch
    assert.ok(stored.lastUsedMicros > key.lastUsedMicros)
    assert.equal(stored.ipAddress, '127.0.0.1')
  })

  test("a ':memory:' store is checked on the request's thread (authenticateSync)", async (t) => {
    const real = memory()
    assert.equal(real.mayBlock, false)
    const { token, key } = real.createTokenSync('jane')
    const authority = spy(real)
    const base = await listen(t, app(authority))
    assert.equal((await get(base, '/whoami', ['bearer', token])).status, 200)
    assert.deepEqual(authority.calls, ['authenticateSync'])
    const stored = real.getKeySync('jane', key.id)
    assert.ok(stored.lastUsedMicros > key.lastUsedMicros)
    assert.equal(stored.ipAddress, '127.0.0.1')
  })

  test('a rejection from the Promise path is answered the same', async (t) => {
    const authority = sqlite(t)
    const { token } = authority.createTokenSync('jane')
    const bad = token.slice(0, 11) + 'A'.repeat(22)
    const base = await listen(t, app(spy(authority)))
    const response = await get(base, '/whoami', ['access_token', bad])
    const error = thrown(authority, bad)
    assert.equal(error.code, 'TOKENWARD_INVALID_SECRET')
    await assertAnswer(response, error)
  })

  test('an IPv4-mapped socket address is stored as IPv4 by the core', async (t) => {
    const authority = memory()
    const { token, key } = authority.createTokenSync('jane')
    let remote
    const application = express()
    application.use((req, res, next) => {
      remote = req.socket.remoteAddress
      next()
    })
    application.use(tokenward(authority))
    application.get('/whoami', (req, res) => res.end())
    let base
    try {
      base = await listen(t, application, '::') // dual stack: IPv4 clients appear as ::ffff:
    } catch (error) {
      t.skip(`no IPv6 here: ${error.code}`)
      return
    }
    const response = await get(base, '/whoami', ['header', token])
    assert.equal(response.status, 200)
    if (remote !== '::ffff:127.0.0.1') {
      t.skip(`the socket reported ${remote}, not an IPv4-mapped address`)
      return
    }
    assert.equal(authority.getKeySync('jane', key.id).ipAddress, '127.0.0.1')
  })
})

describe('errors that are not tokenward errors', () => {
  function failing(error, mayBlock) {
    return {
      mayBlock,
      authenticate: () => Promise.reject(error),
      authenticateSync: () => {
        throw error
      },
    }
  }

  for (const mayBlock of [false, true]) {
    test(`go to next(err) (${mayBlock ? 'Promise' : 'sync'} path)`, async (t) => {
      const boom = new Error('boom')
      let handled
      const application = express()
      application.use(tokenward(failing(boom, mayBlock)))
      application.get('/whoami', (req, res) => res.end('reached'))
      application.use((err, req, res, next) => {
        handled = err
        res.status(418).end('handled')
      })
      const base = await listen(t, application)
      const response = await get(base, '/whoami', ['header', 'abcdefghij-0123456789012345678901'])
      assert.equal(response.status, 418)
      assert.equal(await response.text(), 'handled')
      assert.equal(handled, boom)
    })
  }
})

describe('skip', () => {
  test('skipped prefixes pass without a token and without a key; others do not', async (t) => {
    const authority = memory()
    const base = await listen(t, app(authority, { skip: ['/healthz/'] }))
    for (const pathname of ['/healthz', '/healthz/live']) {
      const response = await fetch(`${base}${pathname}`)
      assert.equal(response.status, 200, pathname)
      assert.deepEqual(await response.json(), { key: null })
    }
    const missing = thrown(authority, '')
    for (const pathname of ['/healthzz', '/style.css', '/whoami']) {
      await assertAnswer(await fetch(`${base}${pathname}`), missing)
    }
  })

  test('a skipped path still has no key even with a valid token', async (t) => {
    const authority = memory()
    const { token } = authority.createTokenSync('jane')
    const base = await listen(t, app(authority, { skip: '/healthz' }))
    const response = await get(base, '/healthz', ['bearer', token])
    assert.deepEqual(await response.json(), { key: null })
  })

  test('a path with dot segments is never skipped', async (t) => {
    const authority = memory()
    const seen = []
    const application = express()
    application.use(tokenward(authority, { skip: ['/healthz'] }))
    application.use((req, res) => {
      seen.push(req.path)
      res.status(204).end()
    })
    const base = await listen(t, application)
    const missing = thrown(authority, '')
    for (const pathname of ['/healthz/../admin', '/healthz/./x', '/healthz/%2e%2E/admin', '/healthz/.%2e']) {
      const { res, body } = await request(base, pathname)
      assert.equal(res.statusCode, 401, pathname)
      assert.deepEqual(body, Buffer.from(missing.body), pathname)
    }
    assert.equal((await request(base, '/healthz/live')).res.statusCode, 204)
    assert.deepEqual(seen, ['/healthz/live'])
  })

  test('a predicate decides on the path (not the query)', async (t) => {
    const authority = memory()
    const paths = []
    const skip = (pathname) => {
      paths.push(pathname)
      return pathname.endsWith('.css')
    }
    const base = await listen(t, app(authority, { skip }))
    assert.deepEqual(await (await fetch(`${base}/style.css?x=1`)).json(), { key: null })
    assert.equal((await fetch(`${base}/healthz`)).status, 401)
    assert.deepEqual(paths, ['/style.css', '/healthz'])
  })

  test('under a mount point the path is the one the routes see', async (t) => {
    const authority = memory()
    const application = express()
    const api = express.Router()
    api.use(tokenward(authority, { skip: ['/public'] }))
    api.get(['/public', '/private'], (req, res) => res.json({ key: req.tokenward ? 'yes' : 'no' }))
    application.use('/api', api)
    const base = await listen(t, application)
    assert.deepEqual(await (await fetch(`${base}/api/public`)).json(), { key: 'no' })
    assert.equal((await fetch(`${base}/api/private`)).status, 401)
  })

  test('a bad skip option is refused when the middleware is made', () => {
    const authority = memory()
    assert.throws(() => tokenward(authority, { skip: 42 }), TypeError)
    assert.throws(() => tokenward(authority, { skip: ['/a', 7] }), TypeError)
    assert.throws(() => tokenward({}), TypeError)
  })
})

describe('plain node:http', () => {
  test("the middleware runs in a bare handler; query and path come from req.url", async (t) => {
    const authority = memory()
    const { token } = authority.createTokenSync('jane')
    const middleware = tokenward(authority, { skip: ['/healthz'] })
    const base = await listen(t, (req, res) => {
      middleware(req, res, (err) => {
        if (err) {
          res.statusCode = 599
          res.end()
          return
        }
        res.end(req.tokenward ? req.tokenward.userId : 'anonymous')
      })
    })
    const ok = await fetch(`${base}/whoami?coder_session_token=${token}`)
    assert.equal(await ok.text(), 'jane')
    assert.equal(await (await fetch(`${base}/healthz?x`)).text(), 'anonymous')
    await assertAnswer(await fetch(`${base}/whoami?access_token=`), thrown(authority, ''))
  })
})

describe('answer()', () => {
  test("writes any tokenward error as Coder's answer; refuses other errors", async (t) => {
    const authority = memory()
    let refused
    const application = express()
    application.get('/keys/:id', (req, res) => {
      res.setHeader('WWW-Authenticate', 'Basic realm="stale"')
      try {
        res.json(authority.getKeySync('jane', req.params.id))
      } catch (error) {
        answer(res, error)
      }
    })
    application.get('/plain', (req, res) => {
      try {
        answer(res, new Error('plain'))
      } catch (error) {
        refused = error
        res.status(400).end()
      }
    })
    const base = await listen(t, application)
    const response = await fetch(`${base}/keys/abcdefghij`)
    let error
    try {
      authority.getKeySync('jane', 'abcdefghij')
    } catch (e) {
      error = e
    }
    assert.equal(error.code, 'TOKENWARD_NOT_FOUND')
    assert.ok(isTokenwardError(error))
    await assertAnswer(response, error)
    assert.equal(response.status, 404)
    assert.equal((await fetch(`${base}/plain`)).status, 400)
    assert.ok(refused instanceof TypeError)
    assert.equal(isTokenwardError(new Error('plain')), false)
  })
})

describe('ESM', () => {
  test('express.mjs re-exports the same functions', async () => {
    const esm = await import('../express.mjs')
    assert.equal(esm.tokenward, tokenward)
    assert.equal(esm.default, tokenward)
    assert.equal(esm.answer, answer)
    assert.equal(esm.isTokenwardError, isTokenwardError)
  })
})
