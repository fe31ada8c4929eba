'use strict'
// Concurrency: worker_threads and child processes sharing one SQLite file; the event loop
// left free while store calls run on libuv's pool; revocation that is final while other
// authenticate calls are in flight.
//
// Nothing here asserts on timing. Waits are bounded only so that a bug cannot hang the suite,
// and "while pending" is observed (a timer callback sees a call outstanding), not measured.

const { describe, test } = require('node:test')
const assert = require('node:assert/strict')
const { fork } = require('node:child_process')
const path = require('node:path')
const { Worker } = require('node:worker_threads')

const { OWNER, PACKAGE, STORES, caught, sqlitePath, tw } = require('./support.js')

const WORKER = path.join(__dirname, 'fixtures', 'store_worker.js')
const THREADS = 3
const CHILDREN = 4
const TOKENS_PER_WORKER = 60
const PATIENCE_MS = 60000

/** Rejects after PATIENCE_MS: a liveness bound, so that a hang fails instead of stalling. */
function patience(what) {
  let timer
  const p = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`gave up waiting: ${what}`)), PATIENCE_MS)
  })
  return { p, cancel: () => clearTimeout(timer) }
}

/**
 * Starts a worker (`kind` 'thread' or 'child') named `name`; resolves `ready` when it says so,
 * and `done` with its result. `go(job)` lets it start.
 */
function startWorker(kind, name) {
  const handle =
    kind === 'thread'
      ? new Worker(WORKER, { workerData: { name } })
      : fork(WORKER, ['--tokenward-child', name], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  let ready
  const worker = {
    kind,
    name,
    handle,
    ready: new Promise((resolve) => (ready = resolve)),
    done: new Promise((resolve, reject) => {
      handle.on('message', (m) => {
        if (m.type === 'ready') ready()
        if (m.type === 'done') resolve(m.result)
      })
      handle.on('error', reject)
      handle.on('exit', (code) => {
        if (code !== 0) reject(new Error(`${kind} ${name} exited with ${code}`))
        else resolve(undefined) // nothing if it reported already
      })
    }),
    go: (job) =>
      kind === 'thread' ? handle.postMessage({ type: 'go', job }) : handle.send({ type: 'go', job }),
    stop: () => (kind === 'thread' ? handle.terminate() : handle.exitCode === null && handle.kill()),
  }
  return worker
}

test('worker threads and child processes sharing one SQLite file lose no token and never see an error', async () => {
  const file = sqlitePath()
  const workers = [
    ...Array.from({ length: THREADS }, (_, n) => startWorker('thread', `thread-${n}`)),
    ...Array.from({ length: CHILDREN }, (_, n) => startWorker('child', `child-${n}`)),
  ]
  const bound = patience('the workers')
  let results
  try {
    await Promise.race([Promise.all(workers.map((w) => w.ready)), bound.p])
    // All at once: each opens (and may create) the file, then mints and authenticates.
    for (const w of workers) {
      w.go({ pkg: PACKAGE, file, name: w.name, count: TOKENS_PER_WORKER, batch: 6 })
    }
    results = await Promise.race([Promise.all(workers.map((w) => w.done)), bound.p])
  } finally {
    bound.cancel()
    for (const w of workers) w.stop()
  }

  for (const [i, r] of results.entries()) {
    assert.ok(r, `${workers[i].name} reported nothing`)
    assert.deepEqual(r.errors.filter((e) => e.includes('STORE_BUSY')), [], `${r.name}: busy`)
    assert.deepEqual(r.errors, [], `${r.name}: errors`)
    assert.equal(r.tokens.length, TOKENS_PER_WORKER, `${r.name}: tokens`)
  }

  // Every token every worker minted authenticates here, as its worker's.
  const parent = tw.Authority.open(file)
  try {
    for (const r of results) {
      const verified = await Promise.all(r.tokens.map((t) => parent.authenticate(t)))
      for (const v of verified) assert.equal(v.key.userId, r.name)
    }
    const listed = await parent.listTokens(OWNER, { all: true, includeExpired: true })
    assert.equal(listed.length, workers.length * TOKENS_PER_WORKER)
    for (const w of workers) {
      const names = listed.filter((k) => k.userId === w.name).map((k) => k.tokenName).sort()
      const want = Array.from({ length: TOKENS_PER_WORKER }, (_, i) => `t${i}`).sort()
      assert.deepEqual(names, want, w.name)
    }
  } finally {
    parent.close()
  }
})

test('the event loop keeps turning while a burst of async createToken calls runs on a SQLite file', async (t) => {
  const a = tw.Authority.open(sqlitePath())
  assert.equal(a.mayBlock, true)
  let pending = 0
  let started = 0
  let ticksWhilePending = 0
  // A timer callback can only run while the event loop turns; it counts the turns on which a
  // createToken was still outstanding.
  const timer = setInterval(() => {
    if (pending > 0) ticksWhilePending++
  }, 1)
  // The burst: at least BURST calls, 8 in flight at a time, each started as one ends; it goes
  // on past BURST until 3 ticks were seen with calls pending, or CAP calls were made.
  const BURST = 200
  const CAP = 4000
  const bound = patience('the burst')
  try {
    await Promise.race([
      bound.p,
      new Promise((resolve, reject) => {
        const launch = () => {
          started++
          pending++
          a.createToken('burst', { tokenName: `b${started}` }).then(() => {
            pending--
            if (started < BURST || (ticksWhilePending < 3 && started < CAP)) launch()
            else if (pending === 0) resolve()
          }, reject)
        }
        for (let i = 0; i < 8; i++) launch()
      }),
    ])
  } finally {
    clearInterval(timer)
    bound.cancel()
  }
  t.diagnostic(`${ticksWhilePending} timer ticks while calls were pending, ${started} calls`)
  assert.ok(ticksWhilePending > 0, `no timer fired while calls were pending (${started} calls)`)
  assert.equal(pending, 0)
  assert.equal((await a.listTokens('burst')).length, started)
  a.close()
})

/**
 * One round of the revocation race: many authenticate calls of `token` kept in flight while
 * the key is expired, then deleted. Each call records whether it was STARTED after expire()
 * (delete()) had resolved, and whether delete() had been called when it settled. Returns the
 * calls.
 */
async function raceRound(a, actor, token, id, { inFlight, expireAtOnce, afterEach }) {
  const calls = []
  let phase = 'live' // the phase in which a call starts: live, expired, deleted
  let deleting = false // delete() was called (a call settled since may see it)
  let stop = false
  let settled = 0
  let wake
  const launch = () => {
    const call = { phase, outcome: undefined, sawDelete: undefined }
    calls.push(call)
    a.authenticate(token, '203.0.113.7').then(
      () => (call.outcome = 'ok'),
      (e) => (call.outcome = e.code),
    ).then(() => {
      call.sawDelete = deleting
      settled++
      if (wake) wake()
      if (!stop) launch()
    })
  }
  const until = (cond) =>
    new Promise((resolve) => {
      const check = () => (cond() ? resolve() : (wake = check))
      check()
    })
  for (let i = 0; i < inFlight; i++) launch()
  if (!expireAtOnce) await until(() => settled >= inFlight)
  await a.expire(actor, id)
  phase = 'expired'
  const afterExpire = calls.length
  await until(() => settled >= afterExpire + afterEach)
  deleting = true
  await a.delete(actor, id)
  phase = 'deleted'
  const afterDelete = calls.length
  await until(() => calls.length >= afterDelete + afterEach)
  stop = true
  await until(() => settled === calls.length)
  return calls
}

for (const [store, urlOf] of STORES) {
  describe(`revocation on ${store}`, () => {
    test('every authenticate started after expire() resolved is refused, and after delete() unknown', async (t) => {
      const a = tw.Authority.open(urlOf())
      const bound = patience('the revocation race')
      try {
        const violations = []
        let afterExpire = 0
        let afterDelete = 0
        let okBefore = 0
        await Promise.race([
          bound.p,
          (async () => {
            for (let round = 0; round < 12; round++) {
              // Sessions and tokens alike; the first use of each writes an update, which may
              // be in flight when the expire lands.
              const minted =
                round % 2 === 0
                  ? await a.createSession('jane', 'password', '192.0.2.1')
                  : await a.createToken('jane', { tokenName: `r${round}` })
              const calls = await raceRound(a, 'jane', minted.token, minted.key.id, {
                inFlight: 16,
                expireAtOnce: round % 4 < 2,
                afterEach: 40,
              })
              for (const c of calls) {
                if (c.phase === 'expired') {
                  // Refused: as expired, or as unknown once the delete may have landed.
                  afterExpire++
                  const refused = c.sawDelete ? ['TOKENWARD_EXPIRED', 'TOKENWARD_UNKNOWN_KEY'] : ['TOKENWARD_EXPIRED']
                  if (!refused.includes(c.outcome)) violations.push(`round ${round}: after expire: ${c.outcome}`)
                } else if (c.phase === 'deleted') {
                  afterDelete++
                  if (c.outcome !== 'TOKENWARD_UNKNOWN_KEY') violations.push(`round ${round}: after delete: ${c.outcome}`)
                } else if (!['ok', 'TOKENWARD_EXPIRED', 'TOKENWARD_UNKNOWN_KEY'].includes(c.outcome)) {
                  violations.push(`round ${round}: before expire: ${c.outcome}`)
                } else if (c.outcome === 'ok') okBefore++
              }
              // After the race, the key is gone for good.
              assert.equal((await caught(() => a.authenticate(minted.token))).code, 'TOKENWARD_UNKNOWN_KEY')
            }
          })(),
        ])
        t.diagnostic(`${okBefore} calls authenticated before the expire, ${afterExpire} started after it, ${afterDelete} after the delete`)
        assert.deepEqual(violations.slice(0, 20), [], `${violations.length} calls outlived the revocation`)
        assert.ok(afterExpire >= 12 * 40 && afterDelete >= 12 * 40, `${afterExpire} / ${afterDelete} calls after`)
        assert.ok(okBefore > 0, 'no call authenticated before the expire')
      } finally {
        bound.cancel()
        a.close()
      }
    })

    test('no refresh in flight moves an expired key back to life', async () => {
      const a = tw.Authority.open(urlOf())
      try {
        for (let round = 0; round < 20; round++) {
          const { token, key } = await a.createSession('jane', 'github', '192.0.2.1')
          // The first uses all want to write last_used; expire lands among them.
          const inFlight = Array.from({ length: 12 }, () => a.authenticate(token, '203.0.113.7').then(() => 'ok', (e) => e.code))
          await a.expire('jane', key.id)
          const expiredMs = Date.now()
          const outcomes = await Promise.all(inFlight)
          for (const o of outcomes) assert.ok(['ok', 'TOKENWARD_EXPIRED'].includes(o), o)
          const stored = await a.getKey('jane', key.id)
          assert.ok(
            stored.expiresAt.getTime() <= expiredMs,
            `round ${round}: expires_at ${stored.expiresAt.toISOString()} after the expire (${new Date(expiredMs).toISOString()})`,
          )
          assert.equal((await caught(() => a.authenticate(token))).code, 'TOKENWARD_EXPIRED')
          assert.equal((await caught(() => a.authenticateSync(token))).code, 'TOKENWARD_EXPIRED')
        }
      } finally {
        a.close()
      }
    })
  })
}

test('calls in flight when close() runs finish; calls after it throw TOKENWARD_STORE_IO', async () => {
  const a = tw.Authority.open(sqlitePath())
  const { token } = a.createTokenSync('jane')
  const inFlight = Array.from({ length: 20 }, (_, i) =>
    (i % 2 ? a.authenticate(token) : a.createToken('jane')).then(() => 'ok', (e) => e.code),
  )
  a.close()
  const outcomes = await Promise.all(inFlight)
  for (const o of outcomes) assert.equal(o, 'ok')
  assert.equal((await caught(() => a.authenticate(token))).code, 'TOKENWARD_STORE_IO')
})
