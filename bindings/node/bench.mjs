// tokenward's Node benchmark: each figure beside its baseline, measured in the same run.
//
//   cd bindings/node && npm install && node bench.mjs
//
// Figures are medians of interleaved batches (one batch of each contender per round), so a
// machine that slows down during the run moves every figure alike and the ratios stay put.
// Nothing here asserts a time; the ratios are printed against their goals.
import crypto from 'node:crypto'
import http from 'node:http'
import { spawn } from 'node:child_process'
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

/**
 * The status quo, as its own process: a service the route asks over HTTP whether a token is
 * good, as a Backstage plugin asks Coder's `/api/v2/users/me`. It knows the one token's
 * SHA-256 and answers from memory, with node:crypto, far faster than any real service.
 */
const VERIFIER = `
  const crypto = require('node:crypto')
  const http = require('node:http')
  const stored = Buffer.from(process.env.STORED_HASH, 'hex')
  const server = http.createServer((req, res) => {
    const [id, secret] = String(req.headers['coder-session-token'] ?? '').split('-')
    const digest = crypto.createHash('sha256').update(secret ?? '').digest()
    const ok = id === process.env.KEY_ID && crypto.timingSafeEqual(digest, stored)
    res.statusCode = ok ? 200 : 401
    res.setHeader('content-type', 'application/json')
    res.end(ok ? JSON.stringify({ id: 'bench-user' }) : '{}')
  })
  server.listen(0, '127.0.0.1', () => process.send(server.address().port))
  process.on('disconnect', () => process.exit(0))
`

/** Starts the verifier process; resolves to `{port, child}`. */
async function startVerifier(key) {
  const child = spawn(process.execPath, ['-e', VERIFIER], {
    env: { ...process.env, STORED_HASH: key.hashedSecret.toString('hex'), KEY_ID: key.id },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const [port] = await once(child, 'message')
  return { port, child }
}

/**
 * `middleware`, timed: each request's nanoseconds from entering it to its `next()`, the
 * latency it adds, pushed on `samples`.
 */
function timed(middleware, samples) {
  return (req, res, next) => {
    const start = process.hrtime.bigint()
    middleware(req, res, (error) => {
      samples.push(Number(process.hrtime.bigint() - start))
      next(error)
    })
  }
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]
}

/**
 * Requests to each server in turn over keep-alive, `inFlight` at a time, every answer checked;
 * returns the mean microseconds per request of each (the median of its rounds).
 */
async function drive(servers, headers, { rounds, batch, inFlight }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight })
  const get = (port) =>
    new Promise((resolve, reject) => {
      const request = http.get({ host: '127.0.0.1', port, path: '/r', headers, agent }, (response) => {
        response.resume()
        response.on('end', () => resolve(response.statusCode))
      })
      request.on('error', reject)
    })
  const perRequest = Object.fromEntries(Object.keys(servers).map((name) => [name, []]))
  for (let round = 0; round < rounds; round++) {
    for (const [name, port] of Object.entries(servers)) {
      const start = process.hrtime.bigint()
      const client = async () => {
        for (let i = 0; i < batch / inFlight; i++) {
          const status = await get(port)
          if (status !== 200) throw new Error(`${name}: status ${status}`)
        }
      }
      await Promise.all(Array.from({ length: inFlight }, client))
      perRequest[name].push(Number(process.hrtime.bigint() - start) / batch / 1000)
    }
  }
  agent.destroy()
  return Object.fromEntries(Object.entries(perRequest).map(([name, v]) => [name, median(v)]))
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
  const { token, key } = authority.createTokenSync('bench-user', { tokenName: 'bench' })
  authority.authenticateSync(token)
  const verifier = await startVerifier(key)
  const verifierAgent = new http.Agent({ keepAlive: true })
  const forwarded = (req, res, next) => {
    const ask = http.get(
      {
        host: '127.0.0.1',
        port: verifier.port,
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

  const added = { empty: [], addon: [], tokenward: [], forward: [] }
  const route = (req, res) => res.json({ ok: true })
  const apps = {
    bare: express().get('/r', route),
    empty: express().use(timed((req, res, next) => next(), added.empty)).get('/r', route),
    // One call into the addon that does no work: the floor of any native check, per request.
    addon: express().use(timed((req, res, next) => next(authority.mayBlock && undefined), added.addon)).get('/r', route),
    tokenward: express().use(timed(middleware.tokenward(authority), added.tokenward)).get('/r', route),
    forward: express().use(timed(forwarded, added.forward)).get('/r', route),
  }
  const servers = Object.fromEntries(
    await Promise.all(Object.entries(apps).map(async ([name, app]) => [name, await listen(app)])),
  )
  const ports = Object.fromEntries(Object.entries(servers).map(([name, s]) => [name, s.address().port]))
  const headers = { 'coder-session-token': token, 'user-agent': 'bench', accept: 'application/json' }
  const us = (ns) => (ns / 1000).toFixed(1)
  const lines = []
  for (const inFlight of [1, 16]) {
    await drive(ports, headers, { rounds: 2, batch: 480, inFlight }) // warm up
    for (const samples of Object.values(added)) samples.length = 0
    const perRequest = await drive(ports, headers, { rounds: 15, batch: 192, inFlight })
    const p = (name, q) => percentile(added[name], q)
    const row = (label, name) =>
      `| ${label} | ${us(p(name, 50))} | ${us(p(name, 99))} | ${perRequest[name].toFixed(1)} |`
    lines.push(
      `| Express route on 127.0.0.1, keep-alive, ${inFlight} request${inFlight > 1 ? 's' : ''} in flight | added by the check, p50 µs | p99 µs | µs/request |`,
      '|---|---:|---:|---:|',
      `| unprotected | | | ${perRequest.bare.toFixed(1)} |`,
      row("an empty middleware (the timer's own floor)", 'empty'),
      row('one call into the addon that does nothing (`authority.mayBlock`)', 'addon'),
      row('`tokenward/express` (`:memory:`)', 'tokenward'),
      row('asking a verifier process over HTTP (the status quo)', 'forward'),
      '',
      `${inFlight} in flight, added latency: tokenward ${us(p('tokenward', 50))} µs at p50, the HTTP round trip ` +
        `${us(p('forward', 50))} µs: ${(p('forward', 50) / p('tokenward', 50)).toFixed(0)}x lower (goal >= 100x); ` +
        `at p99 ${(p('forward', 99) / p('tokenward', 99)).toFixed(0)}x`,
      '',
    )
  }
  for (const server of Object.values(servers)) server.close()
  verifierAgent.destroy()
  verifier.child.disconnect()
  return lines
}

console.log(`Node ${process.version}, tokenward ${require('./package.json').version}`)
for (const section of [benchCheck, benchAuthority, benchExpress]) {
  console.log()
  console.log((await section()).join('\n'))
}
