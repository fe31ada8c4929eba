'use strict'
// The example end to end: mint.js mints a token into a fresh SQLite file (a child process),
// server.js serves it (another child process), and fetch calls the routes.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync, spawn } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { once } = require('node:events')

const { Authority, Settings } = require('../../../bindings/node')

test('a minted token reaches /whoami; a bad one gets Coder\'s 401', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokenward-example-'))
  const db = path.join(dir, 'keys.db')
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const env = { ...process.env, TOKENWARD_DB: db, PORT: '0', CODER_ACCESS_URL: 'https://coder.example.com' }

  const token = execFileSync(process.execPath, [path.join(__dirname, 'mint.js'), 'jane', 'ci'], {
    env,
    encoding: 'utf8',
  }).trim()
  assert.match(token, /^[A-Za-z0-9]{10}-[A-Za-z0-9]{22}$/)

  const server = spawn(process.execPath, [path.join(__dirname, 'server.js')], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  t.after(() => {
    if (server.exitCode === null) server.kill('SIGTERM')
  })
  let output = ''
  server.stdout.setEncoding('utf8')
  const base = await new Promise((resolve, reject) => {
    server.stdout.on('data', (chunk) => {
      output += chunk
      const found = output.match(/listening on (http:\/\/\S+)/)
      if (found) resolve(found[1])
    })
    server.once('exit', (code) => reject(new Error(`server.js exited (${code}): ${output}`)))
  })

  const ok = await fetch(`${base}/whoami`, { headers: { 'Coder-Session-Token': token } })
  assert.equal(ok.status, 200)
  const who = await ok.json()
  assert.equal(who.userId, 'jane')
  assert.equal(who.tokenName, 'ci')
  assert.equal(who.keyId, token.slice(0, 10))

  const bearer = await fetch(`${base}/whoami`, { headers: { Authorization: `Bearer ${token}` } })
  assert.equal((await bearer.json()).userId, 'jane')

  assert.deepEqual(await (await fetch(`${base}/healthz`)).json(), { ok: true })

  // A wrong secret: the server's answer is, byte for byte, what the addon throws for it under
  // the same settings (the access URL from the environment).
  const bad = token.slice(0, 11) + '0'.repeat(22)
  const refused = await fetch(`${base}/whoami`, { headers: { Authorization: `Bearer ${bad}` } })
  let error
  const reader = Authority.open(db, new Settings({ accessUrl: 'https://coder.example.com' }))
  try {
    reader.authenticateSync(bad)
  } catch (e) {
    error = e
  }
  assert.equal(error.code, 'TOKENWARD_INVALID_SECRET')
  assert.equal(refused.status, 401)
  assert.equal(refused.headers.get('www-authenticate'), error.wwwAuthenticate)
  assert.equal(refused.headers.get('content-type'), 'application/json; charset=utf-8')
  assert.equal(await refused.text(), error.body)

  // The refresh was written to the file: the key's last use moved from the epoch.
  const stored = reader.getKeySync('jane', token.slice(0, 10))
  assert.ok(stored.lastUsedMicros > 0n)
  assert.equal(stored.ipAddress, '127.0.0.1')
  reader.close()

  server.kill('SIGTERM')
  await once(server, 'exit')
})
