// tokenward's Node benchmark: each figure beside its baseline, measured in the same run.
//
//   cd bindings/node && npm install && node bench.mjs
//
// Figures are medians of interleaved batches (one batch of each contender per round), so a
// machine that slows down during the run moves every figure alike and the ratios stay put.
// Nothing here asserts a time; the ratios are printed against their goals.
import crypto from 'node:crypto'
import http from 'node:http'
import { once } from 'node:events'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const tokenward = require('./index.js')
const { Authority, ApiKey, verifyRecord } = tokenward

const ROUNDS = 15
const BATCH_NS = 20e6

/** Median nanoseconds per call of each contender, batch by batch in turn. */
function measure(contenders) {
  const entries = Object.entries(contenders)
  let batch = 1
  for (;;) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < batch; i++) entries[0][1]()
    if (Number(process.hrtime.bigint() - start) >= BATCH_NS) break
    batch *= 2
  }
  const samples = Object.fromEntries(entries.map(([name]) => [name, []]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, f] of entries) {
      const start = process.hrtime.bigint()
      for (let i = 0; i < batch; i++) f()
      samples[name].push(Number(process.hrtime.bigint() - start) / batch)
    }
  }
  return Object.fromEntries(entries.map(([name]) => [name, median(samples[name])]))
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

/** A session token and its record, used a moment ago: verifying it writes nothing. */
function sessionRecord() {
  const now = new Date()
  const token = tokenward.generate()
  const [id, secret] = token.split('-')
  const stored = crypto.createHash('sha256').update(secret).digest()
  const key = ApiKey.fromJSON({
    id,
    hashed_secret: stored.toString('hex'),
    user_id: 'bench-user',
    last_used: now.toISOString(),
    expires_at: new Date(now.getTime() + 24 * 3600e3).toISOString(),
    created_at: now.toISOString(),
    updated_at: now.toISOString(),
    login_type: 'password',
    lifetime_seconds: 86400,
    ip_address: '0.0.0.0',
    token_name: '',
    scopes: ['coder:all'],
    allow_list: [{ type: '*', id: '*' }],
  })
  return { token, secret, stored, key }
}

/** A straightforward JavaScript full check, as a host would write it with node:crypto:
 * split, hash, compare, expiry, refresh decision (the baseline to beat). */
function jsCheck(token, row) {
  const parts = token.split('-')
  if (parts.length !== 2 || parts[0].length !== 10 || parts[1].length !== 22) {
    throw new Error('Invalid API key format')
  }
  if (parts[0] !== row.id) throw new Error('API key is invalid.')
  const digest = crypto.createHash('sha256').update(parts[1]).digest()
  if (!crypto.timingSafeEqual(digest, row.hashedSecret)) throw new Error('API key secret is invalid.')
  const now = Date.now()
  if (row.expiresAt < now) throw new Error('API key expired')
  const update = {}
  if (now - row.lastUsed > 3600e3) update.lastUsed = now
  const lifetime = row.lifetimeSeconds * 1000
  if (row.loginType !== 'token' && row.expiresAt - now <= lifetime - 3600e3) {
    update.expiresAt = now + lifetime
  }
  return Object.keys(update).length ? update : null
}

function benchCheck() {
  const { token, secret, stored, key } = sessionRecord()
  const row = {
    id: key.id,
    hashedSecret: key.hashedSecret,
    expiresAt: key.expiresAt.getTime(),
    lastUsed: key.lastUsed.getTime(),
    lifetimeSeconds: key.lifetimeSeconds,
    loginType: key.loginType,
  }
  if (verifyRecord(token, key).update !== null || jsCheck(token, row) !== null) {
    throw new Error('the record should need no refresh')
  }
  const f = measure({
    createHash: () => crypto.timingSafeEqual(crypto.createHash('sha256').update(secret).digest(), stored),
    oneShot: () => crypto.timingSafeEqual(crypto.hash('sha256', secret, 'buffer'), stored),
    js: () => jsCheck(token, row),
    tokenward: () => verifyRecord(token, key),
  })
  return [
    '| operation | ns/op |',
    '|---|---:|',
    `| \`timingSafeEqual(createHash('sha256').update(secret).digest(), stored)\` | ${f.createHash.toFixed(0)} |`,
    `| \`timingSafeEqual(crypto.hash('sha256', secret, 'buffer'), stored)\` | ${f.oneShot.toFixed(0)} |`,
    `| a JavaScript full check (split, hash, compare, expiry, refresh decision) | ${f.js.toFixed(0)} |`,
    `| \`verifyRecord(token, key)\` (that whole check, in the core) | ${f.tokenward.toFixed(0)} |`,
    '',
    `verifyRecord vs createHash + timingSafeEqual alone: ${(f.createHash / f.tokenward).toFixed(2)}x faster (goal >= 4x)`,
    `verifyRecord vs crypto.hash + timingSafeEqual alone: ${(f.oneShot / f.tokenward).toFixed(2)}x faster (goal >= 2.5x)`,
    `verifyRecord vs the JavaScript full check: ${(f.js / f.tokenward).toFixed(2)}x faster`,
  ]
}

function benchAuthority() {
  const keys = 1000
  const authority = Authority.open(':memory:')
  const tokens = []
  for (let n = 0; n < keys; n++) {
    tokens.push(authority.createSessionSync(`user-${n}`, 'password', '203.0.113.7').token)
  }
  for (const token of tokens) authority.authenticateSync(token, '203.0.113.7')
  const { token, key } = sessionRecord()
  let turn = 0
  const f = measure({
    verifyRecord: () => verifyRecord(token, key),
    authenticateSync: () => {
      turn = (turn + 1) % keys
      authority.authenticateSync(tokens[turn], '203.0.113.7')
    },
  })
  return [
    `| operation (${keys} session keys, round robin) | ns/op | ops/s |`,
    '|---|---:|---:|',
    `| \`verifyRecord\`, record in hand (baseline) | ${f.verifyRecord.toFixed(0)} | ${Math.round(1e9 / f.verifyRecord).toLocaleString('en')} |`,
    `| \`authenticateSync\`, \`:memory:\` | ${f.authenticateSync.toFixed(0)} | ${Math.round(1e9 / f.authenticateSync).toLocaleString('en')} |`,
    '',
    `authenticateSync on the memory store: ${(1e9 / f.authenticateSync / 1e6).toFixed(2)} M/s (goal >= 1 M/s)`,
  ]
}

/** Median microseconds per request of each server, requests in turn over keep-alive. */
async function measureRequests(servers, path, headers, rounds = 15, batch = 200) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const get = (port) =>
    new Promise((resolve, reject) => {
      const request = http.get({ host: '127.0.0.1', port, path, headers, agent }, (response) => {
        response.resume()
        response.on('end', () => resolve(response.statusCode))
      })
      request.on('error', reject)
    })
  const samples = Object.fromEntries(Object.keys(servers).map((name) => [name, []]))
  for (const port of Object.values(servers)) {
    for (let i = 0; i < 50; i++) await get(port) // warm up
  }
  for (let round = 0; round < rounds; round++) {
    for (const [name, port] of Object.entries(servers)) {
      const start = process.hrtime.bigint()
      for (let i = 0; i < batch; i++) {
        const status = await get(port)
        if (status !== 200) throw new Error(`${name}: status ${status}`)
      }
      samples[name].push(Number(process.hrtime.bigint() - start) / batch / 1000)
    }
  }
  agent.destroy()
  return Object.fromEntries(Object.entries(samples).map(([name, v]) => [name, median(v)]))
}

async function listen(app) {
  const server = http.createServer(app)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return server
}

async function benchExpress() {
  let express, middleware
  try {
    express = require('express')
    middleware = require('./express.js')
  } catch (missing) {
    return [`Express routes: skipped (${missing.message})`]
  }
  const authority = Authority.open(':memory:')
  const { token } = authority.createTokenSync('bench-user', { tokenName: 'bench' })
  authority.authenticateSync(token)
  const route = (req, res) => res.json({ ok: true })

  // The status quo: a verifier service the route asks over HTTP (as a plugin asks Coder's
  // /api/v2/users/me), here local, answering from the same store.
  const verifier = await listen((req, res) => {
    try {
      const key = authority.authenticateSync(req.headers['coder-session-token'] ?? '').key
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ id: key.userId }))
    } catch (error) {
      res.statusCode = error.status ?? 500
      res.end(error.body ?? '')
    }
  })
  const verifierAgent = new http.Agent({ keepAlive: true })
  const forwarded = (req, res, next) => {
    const ask = http.get(
      {
        host: '127.0.0.1',
        port: verifier.address().port,
        path: '/api/v2/users/me',
        headers: { 'coder-session-token': req.headers['coder-session-token'] ?? '' },
        agent: verifierAgent,
      },
      (answer) => {
        answer.resume()
        answer.on('end', () => (answer.statusCode === 200 ? next() : res.sendStatus(401)))
      },
    )
    ask.on('error', next)
  }

  const bare = express().get('/r', route)
  const protectedApp = express().use(middleware.tokenward(authority)).get('/r', route)
  const forwardApp = express().use(forwarded).get('/r', route)
  const servers = await Promise.all([bare, protectedApp, forwardApp].map(listen))
  const f = await measureRequests(
    { bare: servers[0].address().port, tokenward: servers[1].address().port, forward: servers[2].address().port },
    '/r',
    { 'coder-session-token': token },
  )
  for (const server of [...servers, verifier]) server.close()
  verifierAgent.destroy()
  const tokenwardAdded = f.tokenward - f.bare
  const forwardAdded = f.forward - f.bare
  return [
    '| Express route, requests over keep-alive on 127.0.0.1 | µs/request |',
    '|---|---:|',
    `| unprotected | ${f.bare.toFixed(1)} |`,
    `| protected by \`tokenward/express\` (\`:memory:\`) | ${f.tokenward.toFixed(1)} |`,
    `| protected by asking a local verifier over HTTP (the status quo) | ${f.forward.toFixed(1)} |`,
    '',
    `added latency: tokenward ${tokenwardAdded.toFixed(1)} µs, the HTTP round trip ${forwardAdded.toFixed(1)} µs: ` +
      `${(forwardAdded / Math.max(tokenwardAdded, 0.1)).toFixed(0)}x lower (goal >= 100x)`,
  ]
}

console.log(`Node ${process.version}, tokenward ${require('./package.json').version}`)
for (const section of [benchCheck, benchAuthority, benchExpress]) {
  console.log()
  console.log((await section()).join('\n'))
}
