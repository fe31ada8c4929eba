'use strict'
// Authority.open on a PostgreSQL server: the one of TOKENWARD_POSTGRES_URL, which
// `scripts/postgres.sh start` sets (scripts/test.sh starts one). Without it the test is
// skipped, unless TOKENWARD_TEST_POSTGRES is set (as CI sets it): then it fails.
//
// User ids are random UUIDs (Coder's users.id is a uuid), so runs in other languages sharing
// the database never collide.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { execFileSync } = require('node:child_process')

const { caught, caughtSync, errorTexts, tw } = require('./support.js')

const SERVER = process.env.TOKENWARD_POSTGRES_URL || ''

test('a postgres:// URL opens a store, and its password never shows in an error', async (t) => {
  if (SERVER === '') {
    assert.equal(
      process.env.TOKENWARD_TEST_POSTGRES,
      undefined,
      'TOKENWARD_TEST_POSTGRES is set but TOKENWARD_POSTGRES_URL is not: start a server with eval "$(scripts/postgres.sh start)"',
    )
    t.skip('no PostgreSQL server (TOKENWARD_POSTGRES_URL is not set; eval "$(scripts/postgres.sh start)" starts one)')
    return
  }
  const user = crypto.randomUUID()
  const a = tw.Authority.open(SERVER)
  t.after(() => a.close())
  const { token, key } = await a.createToken(user, { tokenName: 'ci' })
  assert.equal((await a.authenticate(token)).key.userId, user)
  await a.expire(user, key.id)
  const rejected = await caught(() => a.authenticate(token))
  assert.equal(rejected.code, 'TOKENWARD_EXPIRED')
  assert.equal(rejected.status, 401)

  const password = decodeURIComponent(new URL(SERVER).password)
  assert.ok(password.length > 0)
  const wrong = `wrong-${crypto.randomUUID()}`
  const refused = caughtSync(() => tw.Authority.open(SERVER.replace(`:${password}@`, `:${wrong}@`)))
  assert.equal(refused.code, 'TOKENWARD_STORE_IO')
  assert.equal(refused.status, 500)
  for (const text of errorTexts(refused)) {
    assert.ok(!String(text).includes(wrong), `the error shows the wrong password: ${text}`)
    assert.ok(!String(text).includes(password), `the error shows the password: ${text}`)
  }
})

// Another process, in another language, on the same database: Python through the wheel
// scripts/test.sh installs (TOKENWARD_TEST_PYTHON names its interpreter).
const PYTHON_SERVER = `
import sys
import tokenward

url, token, user = sys.argv[1:4]
with tokenward.Authority.open(url) as authority:
    key = authority.authenticate(token).key
    assert key.user_id == user, key.user_id
    try:
        authority.create_token(user, token_name="shared")
        print("created")
    except tokenward.Conflict:
        print("conflict")
    authority.expire(user, key.id)
print("expired")
`

test('a server in another process and language sees every write at once: no stale answer', async (t) => {
  const python = process.env.TOKENWARD_TEST_PYTHON || ''
  if (SERVER === '' || python === '') {
    assert.ok(
      SERVER !== '' || process.env.TOKENWARD_TEST_POSTGRES === undefined,
      'TOKENWARD_TEST_POSTGRES is set but TOKENWARD_POSTGRES_URL is not',
    )
    t.skip('needs TOKENWARD_POSTGRES_URL and TOKENWARD_TEST_PYTHON (a Python with tokenward installed)')
    return
  }
  const user = crypto.randomUUID()
  const a = tw.Authority.open(SERVER)
  t.after(() => a.close())
  const { token } = await a.createToken(user, { tokenName: 'shared' })
  assert.equal((await a.authenticate(token)).key.userId, user)
  // Python checks the token Node made, finds the name taken, and expires the key.
  const out = execFileSync(python, ['-c', PYTHON_SERVER, SERVER, token, user], { encoding: 'utf8' })
  assert.deepEqual(out.trim().split('\n'), ['conflict', 'expired'])
  // Here, the next check already refuses it.
  const rejected = await caught(() => a.authenticate(token))
  assert.equal(rejected.code, 'TOKENWARD_EXPIRED')
})
