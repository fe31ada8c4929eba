'use strict'
// A tiny Express server whose routes accept Coder API tokens and session tokens, verified by
// tokenward against a SQLite file of keys (mint one with `node mint.js`).
//
//   TOKENWARD_DB=keys.db PORT=8080 node server.js
//   curl -H "Coder-Session-Token: $TOKEN" http://127.0.0.1:8080/whoami

const express = require('express')
// In an app: require('tokenward') and require('tokenward/express').
const { Authority, Settings } = require('../../../bindings/node')
const { tokenward } = require('../../../bindings/node/express')

/** The app: `/healthz` is public; every other route needs a Coder token. */
function createApp(authority) {
  const app = express()
  app.use(tokenward(authority, { skip: ['/healthz'] }))
  app.get('/healthz', (req, res) => res.json({ ok: true }))
  app.get('/whoami', (req, res) => {
    const key = req.tokenward
    res.json({ userId: key.userId, tokenName: key.tokenName, keyId: key.id, expiresAt: key.expiresAt })
  })
  return app
}

if (require.main === module) {
  const db = process.env.TOKENWARD_DB || 'keys.db'
  // CODER_ACCESS_URL (or TOKENWARD_ACCESS_URL) adds resource_metadata to the 401 challenge.
  const authority = Authority.open(db, Settings.fromEnv())
  const server = createApp(authority).listen(Number(process.env.PORT || 8080), '127.0.0.1', () => {
    const { port } = server.address()
    // The test reads this line to learn the port.
    console.log(`listening on http://127.0.0.1:${port}`)
  })
  const stop = () => server.close(() => authority.close())
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

module.exports = { createApp }
